"""What the benchmark trains: methods, budgets, runs and the config file of each run.

Protocol (every method sees the same data, input size, seeds and iteration budget):

* a *trunk* run trains a supervised detector on the labelled part for ``burn_in + semi``
  iterations and keeps its checkpoint at ``burn_in``; its final checkpoint is the supervised
  row (one trunk per neck: SIB+FA for AnoMed, FPN for the baselines);
* every semi-supervised row starts from its trunk's ``burn_in`` checkpoint and trains
  ``semi`` iterations on labelled + unlabelled images on the trunk's own learning-rate curve
  (so it differs from the supervised row only by the unlabelled images and the teacher), with
  one EMA momentum and its own method settings (the configs in ``configs/``);
* diagnostic rows continue the trunk supervised with one labelled image per iteration (the
  labelled images a semi run sees), on the same curve: what the unlabelled images add;
* the upper bound trains the SIB+FA detector on every training label for ``burn_in + semi``.
"""
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

SUP_SIBFA = 'configs/sib/faster-rcnn_r18-slim_sib-fa_cpu-1k_synth-cxr.py'
SUP_FPN = 'configs/faster_rcnn/faster-rcnn_r18-slim_fpn_cpu-1k_synth-cxr.py'


@dataclass(frozen=True)
class Method:
    """One row family of the table."""
    key: str
    label: str
    config: str
    semi: bool
    trunk: Optional[str] = None          # key of the supervised trunk a semi run starts from
    seeded: bool = False                 # run for every seed (else the first seed only)
    model: Dict = field(default_factory=dict)  # merged into the config's `model`
    baseline: bool = False               # compared against AnoMed in the targets
    batch_size: int = 0                  # >0: supervised continuation of the trunk at this batch
    labelled_per_iter: int = 1           # semi rows: labelled images per iteration (+ 4 unlabelled)
    extra: bool = False                  # opt-in (--methods); left out of the budgets' default plans


METHODS: Dict[str, Method] = {m.key: m for m in [
    Method('supervised', 'Supervised (SIB+FA)', SUP_SIBFA, semi=False, seeded=True, baseline=True),
    Method('supervised_fpn', 'Supervised (FPN)', SUP_FPN, semi=False, seeded=True, baseline=True),
    Method('mean_teacher', 'MeanTeacher (FPN)',
           'configs/mean_teacher/mean-teacher_faster-rcnn_r18-slim_fpn_cpu-1k_synth-cxr.py',
           semi=True, trunk='supervised_fpn', baseline=True),
    Method('soft_teacher', 'SoftTeacher (FPN)',
           'configs/soft_teacher/soft-teacher_faster-rcnn_r18-slim_fpn_cpu-1k_synth-cxr.py',
           semi=True, trunk='supervised_fpn', seeded=True, baseline=True),
    Method('anomed', 'AnoMed (SIB+FA, PLO)',
           'configs/anomed/anomed_faster-rcnn_r18-slim_sib-fa_cpu-1k_synth-cxr.py',
           semi=True, trunk='supervised', seeded=True),
    Method('anomed_no_sib', 'AnoMed w/o SIB (FPN)',
           'configs/anomed/anomed_faster-rcnn_r18-slim_fpn_cpu-1k_synth-cxr.py',
           semi=True, trunk='supervised_fpn'),
    # scrap threshold = confident threshold: no box is hesitant, everything below t1 is background
    Method('anomed_no_hesitant', 'AnoMed w/o hesitant branch',
           'configs/anomed/anomed_faster-rcnn_r18-slim_sib-fa_cpu-1k_synth-cxr.py',
           semi=True, trunk='supervised',
           model=dict(plo=dict(scrap_thr=0.7, confident_thr=0.7))),
    Method('supervised_full', 'Supervised, 100% labels (SIB+FA)', SUP_SIBFA, semi=False),
    # diagnostics: the trunk continued supervised with the labelled images a semi run sees
    # (1 per iteration instead of 4): what the unlabelled images add at equal labelled exposure
    Method('supervised_1img', 'Supervised (SIB+FA), 1 labelled img / iter', SUP_SIBFA, semi=False,
           trunk='supervised', batch_size=1),
    Method('supervised_fpn_1img', 'Supervised (FPN), 1 labelled img / iter', SUP_FPN, semi=False,
           trunk='supervised_fpn', batch_size=1),
    # opt-in diagnostics: semi rows at the supervised row's labelled exposure (4 labelled + 4
    # unlabelled images per iteration): what the unlabelled images add to the supervised row
    Method('soft_teacher_sup4', 'SoftTeacher (FPN), 4 labelled + 4 unlabelled / iter',
           'configs/soft_teacher/soft-teacher_faster-rcnn_r18-slim_fpn_cpu-1k_synth-cxr.py',
           semi=True, trunk='supervised_fpn', labelled_per_iter=4, extra=True),
    Method('anomed_sup4', 'AnoMed, 4 labelled + 4 unlabelled / iter',
           'configs/anomed/anomed_faster-rcnn_r18-slim_sib-fa_cpu-1k_synth-cxr.py',
           semi=True, trunk='supervised', labelled_per_iter=4, extra=True),
    # opt-in control: the trunk restarted from its burn-in checkpoint like every row above (new
    # optimizer state, same LR curve) at its own 4 labelled images per iteration
    Method('supervised_restart', 'Supervised (SIB+FA), restarted at burn-in, 4 labelled / iter', SUP_SIBFA,
           semi=False, trunk='supervised', batch_size=4, extra=True),
]}
DEFAULT_METHODS = tuple(k for k, m in METHODS.items() if not m.extra)


@dataclass(frozen=True)
class Budget:
    """Iterations, data and the shared fine-tuning schedule of one benchmark mode."""
    name: str
    burn_in: int
    semi: int
    ratios: Tuple[int, ...]
    seeds: Tuple[int, ...]
    num_images: int = 1000
    image_size: int = 512
    methods: Tuple[str, ...] = DEFAULT_METHODS
    ema_momentum: float = 0.01
    # AnoMed's unlabelled weight (chosen on val in the PLO issue: 1.0 forgot the large classes)
    anomed_unsup_weight: float = 0.25


BUDGETS: Dict[str, Budget] = {
    # the ratio listed first is trained first: the targets are read at 10% labels
    'default': Budget('default', burn_in=300, semi=200, ratios=(10, 5), seeds=(0, 1)),
    'quick': Budget('quick', burn_in=120, semi=40, ratios=(10,), seeds=(0,), num_images=400,
                    methods=('supervised', 'supervised_fpn', 'mean_teacher', 'soft_teacher', 'anomed',
                             'anomed_no_sib', 'anomed_no_hesitant', 'supervised_1img', 'supervised_fpn_1img')),
}


@dataclass(frozen=True)
class Run:
    """One training + test of the benchmark."""
    method: str
    ratio: int          # percent of train labelled (100 for the upper bound)
    seed: int

    @property
    def name(self) -> str:
        return f'{self.method}_{self.ratio}pct_seed{self.seed}'

    @property
    def trunk(self) -> Optional['Run']:
        t = METHODS[self.method].trunk
        return Run(t, self.ratio, self.seed) if t else None


def build_plan(budget: Budget) -> List[Run]:
    """Runs in dependency order, ratio by ratio and seed by seed (a trunk before the semi runs
    that start from it), so a partly finished benchmark already has whole (ratio, seed) groups."""
    runs: List[Run] = []
    for ratio in budget.ratios:
        for seed in budget.seeds:
            group = []
            for key in budget.methods:
                m = METHODS[key]
                if key == 'supervised_full' or (seed != budget.seeds[0] and not m.seeded):
                    continue
                if m.trunk and m.trunk not in budget.methods:
                    raise ValueError(f'{key} starts from {m.trunk}, which the budget leaves out')
                group.append(Run(key, ratio, seed))
            runs += sorted(group, key=lambda r: METHODS[r.method].trunk is not None)  # stable: trunks first
    if 'supervised_full' in budget.methods:
        runs.append(Run('supervised_full', 100, budget.seeds[0]))
    return runs


def split_files(ratio: int) -> Tuple[str, str]:
    """Labelled / unlabelled annotation files (relative to the data root) of a label ratio."""
    if ratio == 100:
        return 'annotations/train.json', ''
    # mmdet's split_coco naming, as tools/misc/split_semi.py writes it (fold 1)
    return (f'annotations/benchmark/train.1@{ratio}.json',
            f'annotations/benchmark/train.1@{ratio}-unlabeled.json')


def render_config(run: Run, budget: Budget, repo: str, data_root: str,
                  trunk_ckpt: Optional[str] = None) -> str:
    """The text of the run's config file: the repo config plus the benchmark's settings."""
    m = METHODS[run.method]
    lab, unlab = split_files(run.ratio)
    root = data_root.rstrip('/') + '/'
    lines = [f"# benchmark run {run.name} ({budget.name} budget); generated, do not edit",
             f"_base_ = '{repo}/{m.config}'",
             f"data_root = '{root}'",
             f"randomness = dict(seed={run.seed})",
             "log_processor = dict(window_size=10)",
             # no validation: mmengine would validate at the last iteration (6 min over the
             # default plan); every row is tested on the test split by tools/test.py instead
             "val_dataloader = None",
             "val_cfg = None",
             "val_evaluator = None",
             "test_dataloader = dict(dataset=dict(data_root=data_root))",
             "test_evaluator = [dict(_base_.test_evaluator[0], ann_file=data_root + 'annotations/test.json'), "
             "*_base_.test_evaluator[1:]]"]
    total = budget.burn_in + budget.semi
    # one learning-rate curve for every row: the trunk's (warm-up, then x0.1 at 80% and 93% of
    # burn-in + semi); a semi run continues it from the burn-in iteration
    steps = [int(total * 0.8), int(total * 0.93)]
    if m.trunk is None:
        warm = max(1, min(100, budget.burn_in // 4))
        keep = budget.burn_in // 2 if budget.burn_in % 2 == 0 else budget.burn_in
        lines += [
            f"train_dataloader = dict(dataset=dict(data_root=data_root, ann_file='{lab}'))",
            f"train_cfg = dict(max_iters={total})",
            "param_scheduler = [",
            f"    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end={warm}),",
            f"    dict(type='MultiStepLR', begin=0, end={total}, by_epoch=False, milestones={steps}, gamma=0.1)]",
            # keeps iter_<burn_in>.pth, the semi runs' start
            "default_hooks = dict(logger=dict(interval=10), checkpoint=dict(_delete_=True, "
            f"type='AtomicCheckpointHook', by_epoch=False, interval={keep}, max_keep_ckpts=-1))",
        ]
    else:
        if trunk_ckpt is None:
            raise ValueError(f'{run.name} needs the checkpoint of its trunk {run.trunk.name}')
        s = budget.semi
        semi_steps = [max(1, t - budget.burn_in) for t in steps]
        if not m.semi:  # supervised continuation of the trunk
            lines += [f"train_dataloader = dict(batch_size={m.batch_size}, "
                      f"dataset=dict(data_root=data_root, ann_file='{lab}'))"]
        else:
            lines += [
                "labeled_dataset = _base_.labeled_dataset",
                "labeled_dataset.data_root = data_root",
                f"labeled_dataset.ann_file = '{lab}'",
                "unlabeled_dataset = _base_.unlabeled_dataset",
                "unlabeled_dataset.data_root = data_root",
                f"unlabeled_dataset.ann_file = '{unlab}'"]
            if m.labelled_per_iter == 1:
                lines.append("train_dataloader = dict(dataset=dict(datasets=[labeled_dataset, unlabeled_dataset]))")
            else:  # the configs' batch is 1 labelled + 4 unlabelled; keep the 4
                n = m.labelled_per_iter + 4
                lines.append(f"train_dataloader = dict(batch_size={n}, sampler=dict(batch_size={n}, "
                             f"source_ratio=[{m.labelled_per_iter}, 4]), "
                             "dataset=dict(datasets=[labeled_dataset, unlabeled_dataset]))")
        lines += [
            f"load_from = '{trunk_ckpt}'",
            f"train_cfg = dict(max_iters={s})",
            f"param_scheduler = [dict(type='MultiStepLR', begin=0, end={s}, by_epoch=False, "
            f"milestones={semi_steps}, gamma=0.1)]",
            "default_hooks = dict(logger=dict(interval=10), checkpoint=dict(_delete_=True, "
            f"type='AtomicCheckpointHook', by_epoch=False, interval={max(10, s // 4)}, max_keep_ckpts=1))",
        ]
    if m.semi:
        # every semi row starts from a trained trunk: BN statistics frozen at the trunk's for all
        lines.append(f"custom_hooks = [dict(type='BurnInMeanTeacherHook', momentum={budget.ema_momentum}, "
                     "interval=1, skip_buffer=False), dict(type='FreezeBNStatsHook')]")
    model = dict(m.model)
    if run.method.startswith('anomed'):
        model['semi_train_cfg'] = dict(unsup_weight=budget.anomed_unsup_weight)
    if model:
        lines.append(f'model = {model!r}')
    return '\n'.join(lines) + '\n'
