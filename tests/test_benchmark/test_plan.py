"""The benchmark plan: which runs, in which order, with which config."""
from dataclasses import replace

import pytest
from mmengine.config import Config

from tools.analysis_tools.ssod_benchmark import ABLATIONS, BUDGETS, METHODS, Run, build_config, build_plan
from tools.analysis_tools.ssod_benchmark.plan import split_files
from tests.conftest import REPO


@pytest.mark.parametrize('name', list(BUDGETS))
def test_plan_order_and_seeds(name):
    budget = BUDGETS[name]
    plan = build_plan(budget)
    names = [r.name for r in plan]
    assert len(names) == len(set(names))
    for i, run in enumerate(plan):
        if run.trunk is not None:  # a semi run comes after the trunk it starts from
            assert run.trunk.name in names[:i], run.name
    for key in budget.methods:
        seeds = {r.seed for r in plan if r.method == key}
        if key == 'supervised_full':
            assert seeds == {budget.seeds[0]}
        elif METHODS[key].seeded:
            assert seeds == set(budget.seeds), key
        else:
            assert seeds == {budget.seeds[0]}, key


def test_default_budget_covers_the_issue():
    budget = BUDGETS['default']
    assert len(budget.seeds) >= 3 and budget.milestones()[0] <= budget.burn_in < budget.milestones()[1]
    plan = build_plan(budget)
    for key in ('supervised', 'mean_teacher', 'soft_teacher', 'anomed'):
        assert {r.seed for r in plan if r.method == key} == set(budget.seeds), key
    assert 'supervised_full' in {r.method for r in plan}
    # ablations: an opt-in (--ablations) on the same trunks, first seed, after every main row
    with_abl = build_plan(replace(budget, methods=budget.methods + ABLATIONS))
    assert with_abl[:len(plan)] == plan
    assert {r.method for r in with_abl[len(plan):]} == {'supervised_fpn', 'anomed_no_sib', 'anomed_no_hesitant',
                                                        'anomed_calibrated', 'anomed_dist_align',
                                                        'anomed_ignore_only', 'anomed_band50', 'supervised_2x',
                                                        'ema_only'}
    assert {r.seed for r in with_abl[len(plan):]} == {budget.seeds[0]}
    # the first seed's main rows and the 100% row come before any other seed or ablation
    first = [r.method for r in plan[:5]]
    assert first == ['supervised', 'mean_teacher', 'soft_teacher', 'anomed', 'supervised_full']


def test_budget_without_trunk_is_refused():
    budget = replace(BUDGETS['quick'], methods=('anomed',))
    with pytest.raises(ValueError, match='supervised'):
        build_plan(budget)


def test_each_seed_reads_its_own_fold():
    assert split_files(5, 0) == ('annotations/benchmark/train.1@5.json', 'annotations/benchmark/train.1@5-unlabeled.json')
    assert split_files(5, 2)[0].endswith('train.3@5.json')
    assert split_files(100, 1) == ('annotations/train.json', '')


@pytest.mark.parametrize('method', list(METHODS))
def test_row_configs(tmp_path, method):
    budget = BUDGETS['default']
    m = METHODS[method]
    run = Run(method, 100 if method == 'supervised_full' else 5, 1)
    trunk = str(tmp_path / 'trunk.pth') if run.trunk else None
    path = tmp_path / 'cfg.py'
    build_config(run, budget, str(REPO), str(tmp_path / 'data'), trunk).dump(str(path))
    cfg = Config.fromfile(str(path))  # the dump is a standalone config
    root = str(tmp_path / 'data') + '/'
    assert cfg.randomness.seed == 1
    assert cfg.test_evaluator[0].ann_file == root + 'annotations/test.json'
    assert cfg.test_dataloader.dataset.data_root == root
    ds = cfg.train_dataloader.dataset
    if m.semi:
        assert cfg.train_cfg.max_iters == budget.semi and cfg.load_from == trunk
        lab, unlab = ds.datasets
        assert lab.ann_file == 'annotations/benchmark/train.2@5.json'
        assert unlab.ann_file == 'annotations/benchmark/train.2@5-unlabeled.json'
        assert lab.data_root == unlab.data_root == root
        # 4 labelled images per iteration, as the supervised row, plus 4 unlabelled
        assert cfg.train_dataloader.sampler.source_ratio == [4, 4]
        assert cfg.train_dataloader.batch_size == cfg.train_dataloader.sampler.batch_size == 8
        # the trunk's optimizer state and learning-rate curve, continued from the burn-in
        hooks = {h.type: h for h in cfg.custom_hooks}
        assert hooks['TrunkOptimStateHook'].checkpoint == trunk
        assert hooks['BurnInMeanTeacherHook'].momentum == budget.ema_momentum and 'FreezeBNStatsHook' in hooks
        assert cfg.param_scheduler == [dict(type='MultiStepLR', begin=0, end=budget.semi, by_epoch=False, gamma=0.1,
                                            milestones=[t - budget.burn_in for t in budget.milestones()
                                                        if t > budget.burn_in])]
        # past the first LR step: the trunk's reduced rate
        assert cfg.optim_wrapper.optimizer.lr == pytest.approx(1e-3 * 0.1 ** sum(t <= budget.burn_in
                                                                                   for t in budget.milestones()))
        assert cfg.val_cfg is None and cfg.val_dataloader is None
        neck = cfg.model.detector.neck
    else:
        total = budget.total * m.iters  # supervised_2x: the same schedule stretched twice as long
        assert cfg.train_cfg.max_iters == total and cfg.get('load_from') is None
        assert cfg.train_cfg.val_interval == budget.total // 3  # validated every third of the budget
        assert cfg.param_scheduler[1].milestones == [m.iters * t for t in budget.milestones()]
        assert cfg.val_evaluator.ann_file == root + 'annotations/val.json'
        assert cfg.train_dataloader.batch_size == 4
        # a checkpoint lands exactly at the burn-in iteration and none is deleted
        assert budget.burn_in % cfg.default_hooks.checkpoint.interval == 0
        assert cfg.default_hooks.checkpoint.max_keep_ckpts == -1
        assert ds.ann_file == ('annotations/train.json' if method == 'supervised_full'
                               else 'annotations/benchmark/train.2@5.json')
        neck = cfg.model.neck
    assert isinstance(neck, list) == m.sib_fa  # MeanTeacher and SoftTeacher on the SIB + FA detector too
    if method == 'anomed_no_hesitant':
        assert cfg.model.plo.hesitant is False
    if method == 'anomed_calibrated':
        assert cfg.model.plo.class_thrs == 'calibrated'
    if method == 'anomed_dist_align':
        assert cfg.model.plo.dist_align.type == 'scores' and cfg.model.plo.dist_align.max_ratio == 2.0
    if method == 'ema_only':  # MeanTeacher's run, the unlabelled loss off, the teacher tested
        assert cfg.model.semi_train_cfg.unsup_weight == 0.0 and cfg.model.semi_test_cfg.predict_on == 'teacher'
    if method.startswith('anomed'):
        assert cfg.model.semi_train_cfg.sup_weight == 1.0  # merged, not replaced


def test_semi_run_needs_its_trunk_checkpoint():
    with pytest.raises(ValueError, match='trunk'):
        build_config(Run('anomed', 10, 0), BUDGETS['quick'], str(REPO), 'data/x')


def test_semi_row_after_an_lr_step_starts_at_the_trunks_reduced_rate(tmp_path):
    budget = replace(BUDGETS['default'], burn_in=700, semi=200)  # steps at 675 and 810
    cfg = build_config(Run('anomed', 5, 0), budget, str(REPO), 'data/x', 'trunk.pth')
    trunk = Config.fromfile(str(REPO / METHODS['supervised'].config))
    assert cfg.optim_wrapper.optimizer.lr == pytest.approx(trunk.optim_wrapper.optimizer.lr * 0.1)
    assert cfg.param_scheduler[0].milestones == [110]


@pytest.mark.parametrize('name', ['default', 'demo'])
def test_semi_rows_start_from_an_annealed_trunk(name):
    """A teacher copied before the trunk's first LR step labels almost nothing (docs/benchmark.md)."""
    budget = BUDGETS[name]
    assert budget.milestones()[0] < budget.burn_in < budget.total


def test_on_split_points_test_at_val_and_leaves_the_row_config_alone():
    from tools.analysis_tools.ssod_benchmark.plan import on_split
    cfg = build_config(Run('supervised', 5, 0), BUDGETS['default'], str(REPO), '/data/x/')
    val = on_split(cfg, 'val', '/data/x/')
    assert val.test_dataloader.dataset.ann_file == 'annotations/val.json'
    assert val.test_evaluator[0].ann_file == '/data/x/annotations/val.json'
    assert cfg.test_dataloader.dataset.ann_file == 'annotations/test.json'  # a copy, not the row's own
    assert cfg.test_evaluator[0].ann_file == '/data/x/annotations/test.json'


def test_demo_skips_val():
    """The demo chooses nothing on val (its 15 minutes); the default budget validates (test_row_configs)."""
    demo = build_config(Run('supervised', 5, 0), BUDGETS['demo'], str(REPO), '/data/x/')
    assert demo.val_cfg is None and demo.val_dataloader is None and 'val_interval' not in demo.train_cfg
    assert not BUDGETS['demo'].score_val and BUDGETS['default'].score_val


def _resize_scales(node) -> list:
    """Every ``Resize`` scale under ``node`` (a config's loaders)."""
    if isinstance(node, dict):
        own = [tuple(node['scale'])] if node.get('type') == 'Resize' and 'scale' in node else []
        return own + [s for v in node.values() for s in _resize_scales(v)]
    if isinstance(node, (list, tuple)):
        return [s for v in node for s in _resize_scales(v)]
    return []


@pytest.mark.parametrize('method', ['supervised', 'anomed', 'soft_teacher'])
@pytest.mark.parametrize('name', ['default', 'gpu'])
def test_rows_train_and_test_at_the_budgets_input_size(tmp_path, method, name):
    budget = BUDGETS[name]
    run = Run(method, 5, 0)
    trunk = str(tmp_path / 'trunk.pth') if run.trunk else None
    path = tmp_path / 'cfg.py'
    build_config(run, budget, str(REPO), str(tmp_path / 'data'), trunk).dump(str(path))
    cfg = Config.fromfile(str(path))
    loaders = [cfg.train_dataloader, cfg.test_dataloader] + ([cfg.val_dataloader] if cfg.val_dataloader else [])
    scales = _resize_scales([ld.dataset for ld in loaders])
    # the supervised pipeline, the teacher's and student's views of the unlabelled images, test
    assert len(scales) >= (4 if METHODS[method].semi else 2)
    assert set(scales) == {(budget.input_size, budget.input_size)}
    assert {ld.num_workers for ld in loaders} == {budget.workers}


def test_gpu_budget_is_the_larger_version():
    gpu, default = BUDGETS['gpu'], BUDGETS['default']
    assert gpu.input_size == 512 > default.input_size and gpu.total > default.total
    # its semi rows too start from a trunk past its first LR step
    assert gpu.milestones()[0] <= gpu.burn_in < gpu.milestones()[1]
    assert {r.method for r in build_plan(gpu)} == set(gpu.methods)
