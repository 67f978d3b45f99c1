"""The AnoMed detector: hesitant losses, teacher NMS, calibration, empty batches, EMA, burn-in, Runner."""
import pytest
import torch
from mmdet.registry import MODELS
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmengine.structures import InstanceData

import anomed_mmdet  # noqa: F401
from anomed_mmdet.models.plo import CONFIDENT, HESITANT, hesitant_losses
from anomed_mmdet.testing import det_data_sample
from tests.conftest import REPO
from tests.tiny import tiny_anomed

CONFIGS = {
    'two-stage': REPO / 'configs/anomed/anomed_faster-rcnn_r18-slim_fpn_cpu-1k_semi-0.1-synth-cxr.py',
    'one-stage': REPO / 'configs/anomed/anomed_retinanet_r18-slim_fpn_cpu-1k_semi-0.1-synth-cxr.py',
}
SIZE = 64


def val(v) -> float:
    """A loss entry as a number (RPN / dense heads give one tensor per level)."""
    return float(sum(v)) if isinstance(v, (list, tuple)) else float(v)


def build(kind='two-stage', **plo):
    init_default_scope('mmdet')
    cfg = Config.fromfile(str(CONFIGS[kind]))
    cfg.model.plo.class_thrs = None  # global thresholds unless a test asks otherwise
    for key, value in plo.items():  # replace, not merge (dist_align=dict(type='loss', ...))
        cfg.model.plo[key] = value
    torch.manual_seed(0)
    return MODELS.build(cfg.model)


def sample(boxes=(), labels=(), scores=None, group=None):
    fields = {k: v for k, v in (('scores', scores), ('plo_group', group)) if v is not None}
    return det_data_sample(boxes, labels, (SIZE, SIZE), **fields)


@pytest.mark.parametrize('kind', ['two-stage', 'one-stage'])
def test_hard_target_score_weight_gives_a_gradient_proportional_to_the_confidence(kind):
    student = build(kind).student
    student.train()
    x = torch.randn(1, 3, SIZE, SIZE)
    with torch.no_grad():
        feats = student.extract_feat(x)

    def grad(score):
        student.zero_grad()
        hes = [InstanceData(bboxes=torch.tensor([[8.0, 8.0, 40.0, 40.0]]), labels=torch.tensor([1]),
                            scores=torch.tensor([score]))]
        losses = hesitant_losses(student, feats, hes, dict(cls=True, obj=True, target='hard', weight='score'))
        assert 'loss_bbox' not in losses  # box regression off by default
        sum(losses.values()).backward()
        return torch.cat([p.grad.flatten() for p in student.parameters() if p.grad is not None])

    g_low, g_high = grad(0.4), grad(0.8)
    assert g_low.abs().sum() > 0
    torch.testing.assert_close(g_high, 2 * g_low, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize('kind', ['two-stage', 'one-stage'])
def test_hesitant_losses_reuse_the_dense_head_pass(kind):
    """One dense-head pass per unlabelled batch, and the same losses as a second pass would give."""
    from anomed_mmdet.models.detectors.anomed import capture_output, dense_head
    model = build(kind)
    model.train()
    head = dense_head(model.student)
    x = torch.randn(2, 3, SIZE, SIZE)

    def samples():
        return [sample([[4, 4, 50, 50], [8, 8, 40, 40]], [0, 1], [0.9, 0.5], [CONFIDENT, HESITANT]),
                sample([[20, 4, 60, 30]], [2], [0.45], [HESITANT])]

    with capture_output(head) as calls:
        losses = model.loss_by_pseudo_instances(x, samples(), {})
    assert len(calls) == 1
    hes = [s.gt_instances[s.gt_instances.plo_group == HESITANT] for s in samples()]
    conf = [s.gt_instances[s.gt_instances.plo_group == CONFIDENT] for s in samples()]
    feats = model.student.extract_feat(x)
    recomputed = model.hesitant_loss(model.student, feats, hes, conf)
    reused = model.hesitant_loss(model.student, feats, hes, conf, head_outs=head(feats))
    assert recomputed and set(recomputed) == set(reused)
    for k in recomputed:
        torch.testing.assert_close(reused[k], recomputed[k])
        torch.testing.assert_close(losses[f'unsup_hes_{k}'], recomputed[k] * model.semi_train_cfg.get('unsup_weight', 1.0))


@pytest.mark.parametrize('kind', ['two-stage', 'one-stage'])
def test_hesitant_only_images_give_no_box_loss(kind):
    model = build(kind)
    model.train()
    x = torch.randn(2, 3, SIZE, SIZE)
    samples = [sample([[8, 8, 40, 40]], [1], [0.5], [HESITANT]),
               sample([[20, 4, 60, 30], [2, 2, 12, 12]], [0, 2], [0.6, 0.45], [HESITANT, HESITANT])]
    losses = model.loss_by_pseudo_instances(x, samples, {})
    box_keys = [k for k in losses if 'bbox' in k and 'loss' in k]
    assert box_keys and all(val(losses[k]) == 0.0 for k in box_keys)
    assert 'unsup_hes_loss_bbox' not in losses
    assert val(losses['unsup_hes_loss_cls']) > 0
    # hesitant boxes reach the assigners as ignored instances
    assert len(samples[1].ignored_instances) == 2 and len(samples[1].gt_instances) == 0


def test_confident_boxes_train_box_regression():
    model = build('two-stage')
    model.train()
    x = torch.randn(1, 3, SIZE, SIZE)
    losses = model.loss_by_pseudo_instances(x, [sample([[8, 8, 40, 40]], [1], [0.9], [CONFIDENT])], {})
    assert val(losses['unsup_loss_rpn_bbox']) > 0 or val(losses['unsup_loss_bbox']) > 0
    assert val(losses['unsup_loss_cls']) > 0


@pytest.mark.parametrize('kind', ['two-stage', 'one-stage'])
def test_an_all_empty_pseudo_label_batch_gives_zero_unsup_loss(kind):
    model = build(kind, confident_thr=1.0, scrap_thr=1.0)  # every teacher box is scrap
    model.train()
    inputs = {k: torch.randn(2, 3, SIZE, SIZE) for k in ('sup', 'unsup_teacher', 'unsup_student')}
    samples = {'sup': [sample([[8, 8, 40, 40]], [1]), sample([[4, 30, 20, 60]], [3])],
               'unsup_teacher': [sample(), sample()], 'unsup_student': [sample(), sample()]}
    losses = model.loss(inputs, samples)
    unsup = {k: v for k, v in losses.items() if k.startswith('unsup_') and 'loss' in k}
    assert unsup and all(val(v) == 0.0 for v in unsup.values())
    total, _ = model.parse_losses(losses)
    assert torch.isfinite(total)
    total.backward()  # the graph stays intact
    assert losses['plo_num_confident'] == 0 and losses['plo_num_hesitant'] == 0


def test_teacher_labels_in_eval_mode():
    model = build('two-stage')
    model.train()
    seen = []
    model.teacher.backbone.register_forward_pre_hook(lambda m, a: seen.append(m.training))
    model.get_pseudo_instances(torch.randn(1, 3, SIZE, SIZE), [sample()])
    assert seen == [False]


def test_ema_also_averages_bn_buffers_with_skip_buffer_false():
    from mmdet.engine.hooks import MeanTeacherHook
    model = build('two-stage')
    for p in model.student.parameters():
        p.data.fill_(1.0)
    for p in model.teacher.parameters():
        p.data.fill_(0.0)
    model.student.backbone.bn1.running_mean.fill_(1.0)
    model.teacher.backbone.bn1.running_mean.fill_(0.0)
    MeanTeacherHook(momentum=0.25, skip_buffer=False).momentum_update(model, 0.25)
    assert torch.allclose(next(model.teacher.parameters()), torch.tensor(0.25))
    assert torch.allclose(model.teacher.backbone.bn1.running_mean, torch.tensor(0.25))


def test_burn_in_trains_on_labels_only():
    init_default_scope('mmdet')
    cfg = Config.fromfile(str(CONFIGS['two-stage']))
    cfg.model.semi_train_cfg.burn_in_iters = 10
    model = MODELS.build(cfg.model)
    model.train()
    inputs = {k: torch.randn(1, 3, SIZE, SIZE) for k in ('sup', 'unsup_teacher', 'unsup_student')}

    def keys_at(it):
        MessageHub.get_current_instance().update_info('iter', it)
        samples = {'sup': [sample([[8, 8, 40, 40]], [1])], 'unsup_teacher': [sample()], 'unsup_student': [sample()]}
        return set(model.loss(inputs, samples))
    try:
        assert all(k.startswith('sup_') for k in keys_at(5))
        assert any(k.startswith('unsup_') for k in keys_at(10))
    finally:
        MessageHub.get_current_instance().update_info('iter', 0)


def test_predicts_with_the_teacher_by_default():
    model = build('two-stage')
    assert model.semi_test_cfg['predict_on'] == 'teacher'


@pytest.mark.parametrize('kind', ['two-stage', 'one-stage'])
def test_a_few_iterations_through_the_runner(kind, tiny_synth, tmp_path):
    root, _, _ = tiny_synth
    cfg = tiny_anomed(root, tmp_path, max_iters=3, ckpt_interval=3, config=CONFIGS[kind])
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 3
    scalars = runner.message_hub.log_scalars
    for key in ('train/sup_loss_cls', 'train/unsup_hes_loss_cls', 'train/plo_num_confident',
                'train/plo_num_hesitant', 'train/plo_score_hesitant'):
        assert key in scalars, key
    assert (tmp_path / 'iter_3.pth').is_file()


def _roi_cls_grad(student, feats, box, loss_fn):
    """Gradient of ``loss_fn(cls_score)`` on one RoI w.r.t. the RoI head's parameters."""
    student.zero_grad()
    cls_score = student.roi_head._bbox_forward(feats, torch.cat([box.new_zeros(1, 1), box], 1))['cls_score']
    loss_fn(cls_score).backward()
    return torch.cat([p.grad.flatten() for p in student.roi_head.parameters() if p.grad is not None])


@pytest.mark.parametrize('score', [0.31, 0.5, 0.69])
def test_a_hesitant_box_moves_the_student_less_than_a_confident_positive(score):
    """Per box, against mmdet's own confident losses: a positive RoI normalised by the sampled
    RoIs (R-CNN) and positive anchors normalised by the sampled anchors (RPN), for a student that
    does not yet see the lesion (background predicted there)."""
    from anomed_mmdet.models.plo.hesitant_losses import dense_positives
    student = build('two-stage').student
    student.train()
    student.rpn_head.rpn_cls.bias.data.fill_(-3.0)
    student.roi_head.bbox_head.fc_cls.bias.data[-1] = 3.0
    feats = tuple(f.detach() for f in student.extract_feat(torch.randn(1, 3, SIZE, SIZE)))
    box, label = torch.tensor([[8.0, 8.0, 40.0, 40.0]]), torch.tensor([1])
    hes = [InstanceData(bboxes=box, labels=label, scores=torch.tensor([score]))]
    n_rcnn = student.train_cfg.rcnn.sampler.num
    head = student.roi_head.bbox_head
    conf = _roi_cls_grad(student, feats, box, lambda c: head.loss_cls(c, label, avg_factor=n_rcnn))
    student.zero_grad()
    hesitant_losses(student, feats, hes, dict(cls=True, obj=False))['loss_cls'].backward()
    g_hes = torch.cat([p.grad.flatten() for p in student.roi_head.parameters() if p.grad is not None])
    assert 0 < g_hes.norm() <= conf.norm()
    # RPN objectness on the same anchors
    rpn = student.rpn_head
    student.zero_grad()
    hesitant_losses(student, feats, hes, dict(cls=False, obj=True))['loss_obj'].backward()
    g_hes = torch.cat([p.grad.flatten() for p in rpn.parameters() if p.grad is not None])
    student.zero_grad()
    cls_scores = rpn(feats)[0]
    priors = torch.cat(rpn.prior_generator.grid_priors([c.shape[-2:] for c in cls_scores], device='cpu'))
    pos, _ = dense_positives(priors, box, 0.5)
    logits = torch.cat([c[0].permute(1, 2, 0).reshape(-1) for c in cls_scores])[pos]
    rpn.loss_cls(logits[:, None], torch.zeros(len(logits), dtype=torch.long),
                 avg_factor=student.train_cfg.rpn.sampler.num).backward()
    g_conf = torch.cat([p.grad.flatten() for p in rpn.parameters() if p.grad is not None])
    assert 0 < g_hes.norm() <= g_conf.norm()


def test_a_hesitant_box_is_pulled_part_way_toward_background():
    student = build('two-stage').student
    student.train()
    feats = tuple(f.detach() for f in student.extract_feat(torch.randn(1, 3, SIZE, SIZE)))
    box = torch.tensor([[8.0, 8.0, 40.0, 40.0]])
    captured = []

    def keep(_module, _inputs, outputs):
        outputs[0].retain_grad()
        captured.append(outputs[0])

    handle = student.roi_head.bbox_head.register_forward_hook(keep)
    hes = [InstanceData(bboxes=box, labels=torch.tensor([1]), scores=torch.tensor([0.5]))]
    hesitant_losses(student, feats, hes, dict(cls=True, obj=False))['loss_cls'].backward()
    handle.remove()
    grad, prob = captured[0].grad[0], captured[0].softmax(1)[0]
    assert prob[-1] < 0.5  # the untrained head is below 50% background ...
    assert grad[-1] < 0 and grad[1] < 0  # ... so the loss raises both background and the class


def test_soft_nms_acts_in_the_teachers_own_nms():
    """The same teacher on the same image: with Soft-NMS the teacher's own NMS is Soft-NMS while
    it labels (and only then), and the pseudo labels differ from those of its hard NMS."""
    x = torch.randn(1, 3, SIZE, SIZE)
    out, seen = {}, []
    for name, nms in (('hard', None), ('soft', dict(type='soft_nms', iou_threshold=0.3, min_score=0.0))):
        model = build('two-stage', confident_thr=0.0, scrap_thr=0.0, soft_nms=nms, hesitant_dedup_iou=None)
        head = model.teacher.roi_head
        head.bbox_head.register_forward_hook(lambda m, i, o: seen.append(head.test_cfg.nms['type']))
        samples, _ = model.get_pseudo_instances(x, [sample()])
        out[name] = samples[0].gt_instances
        assert head.test_cfg.nms['type'] == 'nms'  # restored
    assert seen == ['nms', 'soft_nms']
    same = (len(out['hard']) == len(out['soft']) and torch.equal(out['hard'].bboxes, out['soft'].bboxes)
            and torch.equal(out['hard'].scores, out['soft'].scores))
    assert not same


def test_calibrated_thresholds_read_the_teacher_on_the_labelled_batch():
    model = build('two-stage', class_thrs='calibrated')
    model.train()
    inputs = {k: torch.randn(1, 3, SIZE, SIZE) for k in ('sup', 'unsup_teacher', 'unsup_student')}
    samples = {'sup': [sample([[8, 8, 40, 40]], [1])], 'unsup_teacher': [sample()], 'unsup_student': [sample()]}
    assert model.plo.calibration.num.sum() == 0
    losses = model.loss(inputs, samples)
    assert model.plo.calibration.num.sum() > 0  # the teacher's boxes on the labelled image, binned
    assert 'plo_t1_c1' in losses and 'pred_instances' not in samples['sup'][0]


def test_the_alignment_loss_trains_the_student_toward_the_labelled_prior():
    model = build('two-stage', dist_align=dict(type='loss', loss_weight=0.5))
    model.train()
    model.plo.update_gt_distribution([torch.tensor([0, 1, 2, 3, 4])])
    x = torch.randn(1, 3, SIZE, SIZE)
    losses = model.loss_by_pseudo_instances(x, [sample([[8, 8, 40, 40], [2, 30, 20, 60]], [1, 2], [0.9, 0.5],
                                                       [CONFIDENT, HESITANT])], {})
    assert float(losses['unsup_loss_dist']) > 0
    losses['unsup_loss_dist'].backward()
    assert model.student.roi_head.bbox_head.fc_cls.weight.grad.abs().sum() > 0
    empty = model.loss_by_pseudo_instances(x, [sample()], {})
    assert float(empty['unsup_loss_dist']) == 0.0


def test_without_the_hesitant_branch_hesitant_boxes_are_background():
    model = build('two-stage', hesitant=False)
    model.train()
    s = sample([[8, 8, 40, 40], [2, 30, 20, 60]], [1, 2], [0.9, 0.5], [CONFIDENT, HESITANT])
    losses = model.loss_by_pseudo_instances(torch.randn(1, 3, SIZE, SIZE), [s], {})
    assert not any(k.startswith('unsup_hes_') for k in losses)
    assert len(s.ignored_instances) == 0 and len(s.gt_instances) == 1


def test_plo_and_hesitant_loss_are_swapped_by_config():
    from anomed_mmdet.models.plo import PseudoLabelOptimizer, TwoStageHesitantLoss

    @MODELS.register_module(force=True)
    class StricterPLO(PseudoLabelOptimizer):
        pass

    @MODELS.register_module(force=True)
    class MyHesitantLoss(TwoStageHesitantLoss):
        pass

    model = build('two-stage', type='StricterPLO', hesitant=dict(type='MyHesitantLoss', obj=False))
    assert type(model.plo) is StricterPLO and model.plo.num_classes == 5
    assert type(model.hesitant_loss) is MyHesitantLoss and model.hesitant_loss.obj is False
