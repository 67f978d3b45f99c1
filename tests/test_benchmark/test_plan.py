"""The benchmark plan: which runs, in which order, with which config."""
from dataclasses import replace

import pytest
from mmengine.config import Config

from tools.analysis_tools.ssod_benchmark import BUDGETS, METHODS, Run, build_plan, render_config
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
    assert set(budget.ratios) == {5, 10} and len(budget.seeds) >= 2
    plan = build_plan(budget)
    for key in ('anomed', 'soft_teacher', 'supervised'):
        for ratio in (5, 10):
            assert sum(r.method == key and r.ratio == ratio for r in plan) >= 2, (key, ratio)
    assert {r.method for r in plan} >= {'mean_teacher', 'anomed_no_sib', 'anomed_no_hesitant', 'supervised_full'}


def test_budget_without_trunk_is_refused():
    budget = replace(BUDGETS['quick'], methods=('anomed',))
    with pytest.raises(ValueError, match='supervised'):
        build_plan(budget)


@pytest.mark.parametrize('method', list(METHODS))
def test_rendered_configs_parse(tmp_path, method):
    budget = BUDGETS['default']
    run = Run(method, 100 if method == 'supervised_full' else 5, 1)
    trunk = str(tmp_path / 'trunk.pth') if run.trunk else None
    path = tmp_path / 'cfg.py'
    path.write_text(render_config(run, budget, str(REPO), str(tmp_path / 'data'), trunk))
    cfg = Config.fromfile(str(path))
    assert cfg.randomness.seed == 1
    assert cfg.val_cfg is None and cfg.val_dataloader is None and cfg.val_evaluator is None  # test only
    assert cfg.test_evaluator[0].ann_file == str(tmp_path / 'data') + '/annotations/test.json'
    assert [m.type for m in cfg.test_evaluator] == ['CocoMetric', 'VOCMetric', 'FROCMetric']
    ds = cfg.train_dataloader.dataset
    if METHODS[method].trunk and not METHODS[method].semi:  # supervised continuation of the trunk
        assert cfg.train_cfg.max_iters == budget.semi and cfg.load_from == trunk
        assert cfg.train_dataloader.batch_size == METHODS[method].batch_size and ds.ann_file.endswith('train.1@5.json')
        assert 'custom_hooks' not in cfg or not any('MeanTeacherHook' in h.type for h in cfg.custom_hooks)
    elif METHODS[method].semi:
        assert cfg.train_cfg.max_iters == budget.semi and cfg.load_from == trunk
        lab, unlab = ds.datasets
        assert lab.ann_file.endswith('train.1@5.json') and unlab.ann_file.endswith('train.1@5-unlabeled.json')
        assert lab.data_root == unlab.data_root == str(tmp_path / 'data') + '/'
        # the trunk's learning-rate curve, continued from the burn-in iteration
        trunk = Config.fromfile(str(REPO / METHODS[METHODS[method].trunk].config))
        assert cfg.optim_wrapper.optimizer.lr == trunk.optim_wrapper.optimizer.lr
        total = budget.burn_in + budget.semi
        assert cfg.param_scheduler[0].milestones == [int(total * 0.8) - budget.burn_in,
                                                     int(total * 0.93) - budget.burn_in]
        assert cfg.custom_hooks[0].momentum == budget.ema_momentum
        n_lab = METHODS[method].labelled_per_iter
        assert cfg.train_dataloader.sampler.source_ratio == [n_lab, 4]
        assert cfg.train_dataloader.batch_size == cfg.train_dataloader.sampler.batch_size == n_lab + 4
    else:
        assert cfg.train_cfg.max_iters == budget.burn_in + budget.semi and cfg.get('load_from') is None
        total = budget.burn_in + budget.semi
        assert cfg.param_scheduler[1].milestones == [int(total * 0.8), int(total * 0.93)]
        # a checkpoint lands exactly at the burn-in iteration and none is deleted
        assert budget.burn_in % cfg.default_hooks.checkpoint.interval == 0
        assert cfg.default_hooks.checkpoint.max_keep_ckpts == -1
        assert cfg.default_hooks.checkpoint.type == 'AtomicCheckpointHook'
        assert ds.ann_file == ('annotations/train.json' if method == 'supervised_full'
                               else 'annotations/benchmark/train.1@5.json')
    if method.startswith('anomed'):
        assert cfg.model.semi_train_cfg.unsup_weight == budget.anomed_unsup_weight
        assert cfg.model.semi_train_cfg.sup_weight == 1.0  # merged, not replaced
    if method == 'anomed_no_hesitant':
        assert cfg.model.plo.scrap_thr == cfg.model.plo.confident_thr
    elif method.startswith('anomed'):
        assert cfg.model.plo.scrap_thr < cfg.model.plo.confident_thr
    neck = cfg.model.detector.neck if METHODS[method].semi else cfg.model.neck
    uses_sib = isinstance(neck, list)
    assert uses_sib == (method in ('supervised', 'supervised_full', 'supervised_1img', 'supervised_restart', 'anomed',
                                   'anomed_no_hesitant', 'anomed_sup4'))


def test_opt_in_methods_stay_out_of_the_budgets_but_can_be_planned():
    extras = {k for k, m in METHODS.items() if m.extra}
    assert extras == {'soft_teacher_sup4', 'anomed_sup4', 'supervised_restart'}
    for budget in BUDGETS.values():
        assert not extras & set(budget.methods)
    plan = build_plan(replace(BUDGETS['default'], methods=('supervised', 'supervised_fpn', 'anomed_sup4',
                                                           'soft_teacher_sup4'), ratios=(10,), seeds=(0,)))
    assert [r.name for r in plan] == ['supervised_10pct_seed0', 'supervised_fpn_10pct_seed0',
                                      'anomed_sup4_10pct_seed0', 'soft_teacher_sup4_10pct_seed0']


def test_semi_run_needs_its_trunk_checkpoint():
    with pytest.raises(ValueError, match='trunk'):
        render_config(Run('anomed', 10, 0), BUDGETS['quick'], str(REPO), 'data/x')
