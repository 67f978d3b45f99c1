"""What the benchmark trains: methods, budgets, runs and the config of each run.

Protocol v2 (docs/benchmark.md):

* a *trunk* trains the SIB + FA detector supervised on the labelled fold for
  ``burn_in + semi`` iterations (4 labelled images per iteration), validating at each third
  (the plateau check) and keeping its checkpoint at ``burn_in``; its final checkpoint is the
  supervised row: it never restarts;
* every semi-supervised row starts from its trunk at ``burn_in`` with the trunk's weights *and
  optimizer state* (``TrunkOptimStateHook``), continues the trunk's learning-rate curve for
  ``semi`` iterations and sees the same 4 labelled images per iteration through the same
  labelled pipeline, plus 4 unlabelled ones: it differs from the supervised row only by the
  unlabelled images and the teacher. MeanTeacher and SoftTeacher run on the same detector;
* each seed draws its own labelled fold (``train.<seed + 1>@<ratio>.json``), holding the
  population's share of images with findings and of boxes (``split_semi``);
* the 100 % row trains the same detector on every training label for ``burn_in + semi``;
* ablations (first seed): AnoMed on the FPN detector from an FPN trunk, without the hesitant
  branch, with calibrated thresholds, with distribution alignment; the supervised trunk on the
  same schedule stretched twice as long (``supervised_2x``: does more training alone gain?);
  MeanTeacher with its unlabelled loss weighted 0 (``ema_only``: does the EMA teacher alone gain?).

Row configs are the repo configs loaded with mmengine's ``Config`` and changed in place.
"""
import os
from dataclasses import dataclass, field, replace
from typing import Dict, List, Optional, Tuple

from mmengine.config import Config

SUP_SIBFA = 'configs/sib/faster-rcnn_r18-slim_sib-fa_cpu-1k_synth-cxr.py'
SUP_FPN = 'configs/faster_rcnn/faster-rcnn_r18-slim_fpn_cpu-1k_synth-cxr.py'
MEAN_TEACHER = 'configs/mean_teacher/mean-teacher_faster-rcnn_r18-slim_fpn_cpu-1k_semi-0.1-synth-cxr.py'
SOFT_TEACHER = 'configs/soft_teacher/soft-teacher_faster-rcnn_r18-slim_fpn_cpu-1k_semi-0.1-synth-cxr.py'
ANOMED = 'configs/anomed/anomed_faster-rcnn_r18-slim_sib-fa_cpu-1k_semi-0.1-synth-cxr.py'
ANOMED_FPN = 'configs/anomed/anomed_faster-rcnn_r18-slim_fpn_cpu-1k_semi-0.1-synth-cxr.py'
ALIGN = dict(type='scores', momentum=0.99, alpha=1.0, max_ratio=2.0, min_ratio=1.0, min_score=0.05)
LABELLED_PER_ITER = 4
UNLABELLED_PER_ITER = 4


@dataclass(frozen=True)
class Method:
    """One row family of the table."""
    key: str
    label: str
    config: str
    semi: bool
    trunk: Optional[str] = None          # key of the supervised trunk a semi run starts from
    seeded: bool = False                 # run for every seed (else the first seed only)
    model: Dict = field(default_factory=dict)  # ``merge_from_dict`` options under ``model.``
    sib_fa: bool = True                  # the detector's neck is SIB + FA (semi rows: set here)
    baseline: bool = False               # compared against AnoMed in the targets
    iters: int = 1                       # trunks: the budget's schedule (iterations, LR steps, validations) times this


METHODS: Dict[str, Method] = {m.key: m for m in [
    Method('supervised', 'Supervised', SUP_SIBFA, semi=False, seeded=True, baseline=True),
    Method('mean_teacher', 'MeanTeacher', MEAN_TEACHER, semi=True, trunk='supervised', seeded=True,
           baseline=True),
    Method('soft_teacher', 'SoftTeacher', SOFT_TEACHER, semi=True, trunk='supervised', seeded=True,
           baseline=True),
    Method('anomed', 'AnoMed', ANOMED, semi=True, trunk='supervised', seeded=True),
    Method('supervised_full', 'Supervised, 100% labels', SUP_SIBFA, semi=False),
    # ablations, first seed
    Method('supervised_fpn', 'Supervised (FPN)', SUP_FPN, semi=False, sib_fa=False),
    # the plateau check that matters: does the supervised row gain from twice the iterations?
    Method('supervised_2x', 'Supervised, 2x iterations', SUP_SIBFA, semi=False, iters=2),
    Method('anomed_no_sib', 'AnoMed w/o SIB + FA (FPN)', ANOMED_FPN, semi=True, trunk='supervised_fpn',
           sib_fa=False),
    # the control for what the unlabelled images buy: MeanTeacher's run (same batches, the EMA
    # teacher tested) with its unlabelled loss weighted 0
    Method('ema_only', 'EMA teacher only (MeanTeacher, unsup weight 0)', MEAN_TEACHER, semi=True,
           trunk='supervised', model={'semi_train_cfg.unsup_weight': 0.0}),
    Method('anomed_no_hesitant', 'AnoMed w/o hesitant branch', ANOMED, semi=True, trunk='supervised',
           model={'plo.hesitant': False}),
    Method('anomed_calibrated', 'AnoMed + calibrated thresholds', ANOMED, semi=True, trunk='supervised',
           model={'plo.class_thrs': 'calibrated'}),
    Method('anomed_dist_align', 'AnoMed + distribution alignment', ANOMED, semi=True, trunk='supervised',
           model={'plo.dist_align': dict(ALIGN, _delete_=True)}),
    # the hesitant branch repaired two ways, chosen on val (docs/benchmark.md): hesitant boxes only
    # ignored (no soft losses), or a narrower hesitant band (0.5-0.7: fewer, more precise boxes)
    Method('anomed_ignore_only', 'AnoMed, hesitant boxes ignored only', ANOMED, semi=True, trunk='supervised',
           model={'plo.hesitant': dict(cls=False, obj=False, bbox=False)}),
    Method('anomed_band50', 'AnoMed, hesitant band 0.5-0.7', ANOMED, semi=True, trunk='supervised',
           model={'plo.scrap_thr': 0.5}),
]}
MAIN_METHODS = ('supervised', 'mean_teacher', 'soft_teacher', 'anomed', 'supervised_full')
ABLATIONS = tuple(k for k in METHODS if k not in MAIN_METHODS)  # --ablations: same work dir and results


@dataclass(frozen=True)
class Budget:
    """Iterations, data and schedule of one benchmark mode."""
    name: str
    burn_in: int
    semi: int
    ratios: Tuple[int, ...]
    seeds: Tuple[int, ...]
    num_images: int = 1000
    image_size: int = 512                # generated size
    input_size: int = 320                # trained and tested at this size (the CPU configs' 320 px)
    workers: int = 1                     # data loader workers per loader (the CPU configs' 1)
    methods: Tuple[str, ...] = MAIN_METHODS
    ema_momentum: float = 0.01
    lr_steps: Tuple[float, float] = (0.75, 0.9)  # x0.1 at these fractions of burn_in + semi
    val_points: int = 3                  # trunk validations (the plateau check reads the last two); 0: none
    score_val: bool = True               # score every row's final checkpoint on val too (settings are chosen on it)

    @property
    def total(self) -> int:
        return self.burn_in + self.semi

    def scaled(self, k: int) -> 'Budget':
        """The same schedule stretched ``k`` times (iterations, LR steps, validations)."""
        return replace(self, burn_in=self.burn_in * k, semi=self.semi * k, val_points=self.val_points * k)

    def milestones(self) -> List[int]:
        return [int(self.total * f) for f in self.lr_steps]


BUDGETS: Dict[str, Budget] = {
    # 5 % labels: where labels bind at this size (docs/benchmark.md); main rows of 3 seeds and the
    # 100 % row estimated at ~180 min on 2 cores from the demo's step times (not yet run)
    # semi rows start after the first LR step, from an annealed trunk: at 300 of 900 iterations (LR
    # 1e-3 throughout) the 5% trunk scored 1.2 AP50:95 on val; the demo's trunk, 100 iterations after
    # its first step, 14.0 on test
    'default': Budget('default', burn_in=700, semi=200, ratios=(5,), seeds=(0, 1, 2)),
    'quick': Budget('quick', burn_in=80, semi=40, ratios=(10,), seeds=(0,), num_images=400),
    # `make demo`: the same protocol at demo size, no val split (it chooses nothing); its teacher,
    # like default's, is taken after the trunk's first LR step (at 285 of 380)
    'demo': Budget('demo', burn_in=300, semi=80, ratios=(5,), seeds=(0,), methods=('supervised', 'anomed'),
                   val_points=0, score_val=False),
    # item 8 of the benchmark issue: a larger version for one GPU (512 px, 1.5x the iterations, the
    # main rows of the first seed); tools/analysis_tools/ssod_benchmark/gpu_run.sh runs it
    'gpu': Budget('gpu', burn_in=1050, semi=300, ratios=(5,), seeds=(0,), input_size=512, workers=4),
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
    """Runs in dependency order (a trunk before the semi runs that start from it): the seeded
    rows seed by seed, the 100 % row after the first seed (the regime check), then the
    first-seed ablations, so a partly finished benchmark already has whole seeds."""
    for key in budget.methods:
        t = METHODS[key].trunk
        if t and t not in budget.methods:
            raise ValueError(f'{key} starts from {t}, which the budget leaves out')

    def group(ratio: int, seed: int, seeded: bool) -> List[Run]:
        keys = [k for k in budget.methods if k != 'supervised_full' and METHODS[k].seeded == seeded]
        runs = [Run(k, ratio, seed) for k in keys]
        return sorted(runs, key=lambda r: METHODS[r.method].trunk is not None)  # stable: trunks first

    runs: List[Run] = []
    for ratio in budget.ratios:
        for seed in budget.seeds:
            runs += group(ratio, seed, seeded=True)
            if 'supervised_full' in budget.methods and not any(r.method == 'supervised_full' for r in runs):
                runs.append(Run('supervised_full', 100, budget.seeds[0]))
    for ratio in budget.ratios:
        runs += group(ratio, budget.seeds[0], seeded=False)
    return runs


def split_files(ratio: int, seed: int) -> Tuple[str, str]:
    """Labelled / unlabelled annotation files (relative to the data root) of a ratio and seed:
    seed ``s`` reads fold ``s + 1`` (mmdet's split_coco naming, as tools/misc/split_semi.py writes)."""
    if ratio == 100:
        return 'annotations/train.json', ''
    tag = f'annotations/benchmark/train.{seed + 1}@{ratio}'
    return f'{tag}.json', f'{tag}-unlabeled.json'


def _data(cfg: Config, run: Run, data_root: str) -> None:
    """Point the row at the benchmark data: its fold, val and test splits; 4 (+ 4) images."""
    root = data_root.rstrip('/') + '/'
    lab, unlab = split_files(run.ratio, run.seed)
    loader = cfg.train_dataloader
    if METHODS[run.method].semi:
        labelled, unlabelled = loader.dataset.datasets
        labelled.update(data_root=root, ann_file=lab)
        unlabelled.update(data_root=root, ann_file=unlab)
        n = LABELLED_PER_ITER + UNLABELLED_PER_ITER
        loader.batch_size = n
        loader.sampler.update(batch_size=n, source_ratio=[LABELLED_PER_ITER, UNLABELLED_PER_ITER])
    else:
        loader.batch_size = LABELLED_PER_ITER
        loader.dataset.update(data_root=root, ann_file=lab)
    for split in ('val', 'test'):
        cfg[f'{split}_dataloader'].dataset.update(data_root=root, ann_file=f'annotations/{split}.json')
    cfg.val_evaluator.ann_file = root + 'annotations/val.json'
    cfg.test_evaluator[0].ann_file = root + 'annotations/test.json'


def _loaders(cfg: Config, budget: Budget) -> None:
    """Every ``Resize`` of the row's pipelines at the budget's input size; its loader workers."""
    def visit(node) -> None:
        if isinstance(node, dict):
            if node.get('type') == 'Resize' and 'scale' in node:
                node['scale'] = (budget.input_size, budget.input_size)
            for v in node.values():
                visit(v)
        elif isinstance(node, (list, tuple)):
            for v in node:
                visit(v)
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(name)
        if loader:
            visit(loader.dataset)
            loader.num_workers = budget.workers
            loader.persistent_workers = budget.workers > 0


def _trunk_schedule(cfg: Config, budget: Budget) -> None:
    """The supervised run: warm-up, the LR steps, validation at each third, a kept checkpoint
    at the burn-in iteration (the semi rows' start)."""
    total = budget.total
    if budget.val_points:
        cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=total, val_interval=total // budget.val_points)
    else:
        cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=total)
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.param_scheduler = [
        dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=max(1, min(100, budget.burn_in // 4))),
        dict(type='MultiStepLR', begin=0, end=total, by_epoch=False, milestones=budget.milestones(), gamma=0.1)]
    keep = budget.burn_in // 2 if budget.burn_in % 2 == 0 else budget.burn_in
    cfg.default_hooks.checkpoint = dict(type='AtomicCheckpointHook', by_epoch=False, interval=keep,
                                        max_keep_ckpts=-1)


def _semi_schedule(cfg: Config, budget: Budget, trunk_ckpt: str) -> None:
    """The semi row: the trunk's weights, optimizer state and LR curve from the burn-in on (a
    burn-in past an LR step starts at the trunk's reduced rate)."""
    passed = [t for t in budget.milestones() if t <= budget.burn_in]
    cfg.optim_wrapper.optimizer.lr *= 0.1 ** len(passed)
    cfg.load_from = trunk_ckpt
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=budget.semi, val_interval=budget.semi)
    cfg.param_scheduler = [dict(type='MultiStepLR', begin=0, end=budget.semi, by_epoch=False, gamma=0.1,
                                milestones=[t - budget.burn_in for t in budget.milestones() if t > budget.burn_in])]
    cfg.default_hooks.checkpoint = dict(type='AtomicCheckpointHook', by_epoch=False,
                                        interval=max(10, budget.semi // 4), max_keep_ckpts=1)
    cfg.custom_hooks = [
        dict(type='TrunkOptimStateHook', checkpoint=trunk_ckpt),
        dict(type='BurnInMeanTeacherHook', momentum=budget.ema_momentum, interval=1, skip_buffer=False),
        dict(type='FreezeBNStatsHook')]  # BN statistics stay the trunk's for every method
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None  # tested on test; val is the trunk's


def on_split(cfg: Config, split: str, data_root: str) -> Config:
    """A copy of ``cfg`` whose test loader and evaluators read ``split`` (``val``: the split every
    setting is chosen on; tools/test.py then scores a row's final checkpoint on it)."""
    out = Config(cfg.to_dict())
    out.test_dataloader.dataset.ann_file = f'annotations/{split}.json'
    for ev in out.test_evaluator:
        if 'ann_file' in ev:
            ev.ann_file = data_root.rstrip('/') + f'/annotations/{split}.json'
    return out


def build_config(run: Run, budget: Budget, repo: str, data_root: str,
                 trunk_ckpt: Optional[str] = None) -> Config:
    """The run's config: the repo config with the benchmark's data, schedule and hooks."""
    m = METHODS[run.method]
    cfg = Config.fromfile(os.path.join(repo, m.config))
    cfg.randomness = dict(seed=run.seed)
    cfg.log_processor.update(window_size=10)
    # val metrics logged at the iteration (the plateau check reads them), not at epoch 0
    cfg.default_hooks.logger = dict(type='MainProcessLoggerHook', interval=10, log_metric_by_epoch=False)
    _data(cfg, run, data_root)
    _loaders(cfg, budget)
    if m.trunk is None:
        _trunk_schedule(cfg, budget.scaled(m.iters))
    else:
        if trunk_ckpt is None:
            raise ValueError(f'{run.name} needs the checkpoint of its trunk {run.trunk.name}')
        _semi_schedule(cfg, budget, trunk_ckpt)
    if m.semi and m.sib_fa and isinstance(cfg.model.detector.neck, dict):  # MeanTeacher, SoftTeacher
        cfg.model.detector.neck = Config.fromfile(os.path.join(repo, SUP_SIBFA)).model.neck
    if m.model:
        cfg.merge_from_dict({f'model.{k}': v for k, v in m.model.items()})
    return cfg
