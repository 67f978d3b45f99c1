"""FA: registration, FPN output contract, every output level sees every input level, gradients."""
import pytest
import torch
from mmdet.models.necks import FPN
from mmdet.registry import MODELS

from anomed_mmdet.models.necks import FA

CHANNELS = [8, 16, 32, 64]


def feats(sizes=((33, 47), (17, 24), (9, 12), (5, 6)), batch=1):
    torch.manual_seed(0)
    return tuple(torch.randn(batch, c, h, w) for c, (h, w) in zip(CHANNELS, sizes))


def test_both_names_are_registered():
    assert MODELS.get('FA') is FA
    assert MODELS.get('FeatureAggregator') is FA


@pytest.mark.parametrize('kwargs', [
    dict(num_outs=4),
    dict(num_outs=5),  # Faster R-CNN: extra level by max-pool
    dict(num_outs=5, start_level=1, add_extra_convs='on_input'),  # RetinaNet
    dict(num_outs=5, start_level=1, add_extra_convs='on_output', relu_before_extra_convs=True),  # FCOS
    dict(num_outs=6, add_extra_convs='on_lateral'),
    dict(num_outs=5, start_level=1, add_extra_convs=True),
    dict(num_outs=2, start_level=1, end_level=2),
])
@pytest.mark.parametrize('sizes', [((64, 64), (32, 32), (16, 16), (8, 8)),
                                   ((33, 47), (17, 24), (9, 12), (5, 6))])
def test_same_output_contract_as_fpn(kwargs, sizes):
    x = feats(sizes)
    fa, fpn = FA(CHANNELS, 16, **kwargs).eval(), FPN(CHANNELS, 16, **kwargs).eval()
    with torch.no_grad():
        out, ref = fa(x), fpn(x)
    assert isinstance(out, tuple)
    assert [o.shape for o in out] == [r.shape for r in ref]


def sees_every_input(neck, x) -> bool:
    """Whether perturbing any used input changes every output level that comes from inputs."""
    with torch.no_grad():
        ref = neck(x)
        for j in range(neck.start_level, neck.backbone_end_level):
            y = list(x)
            y[j] = y[j] + torch.randn_like(y[j])
            out = neck(tuple(y))
            for i in range(neck.backbone_end_level - neck.start_level):
                if torch.allclose(out[i], ref[i]):
                    return False
    return True


@pytest.mark.parametrize('start_level', [0, 1])
def test_every_output_level_sees_every_input_level(start_level):
    x = feats()
    assert sees_every_input(FA(CHANNELS, 16, num_outs=5, start_level=start_level).eval(), x)
    # the check can fail: FPN's top level does not see the finer inputs
    assert not sees_every_input(FPN(CHANNELS, 16, num_outs=5, start_level=start_level).eval(), x)


def test_fusion_weights_start_uniform_and_stay_normalised():
    fa = FA(CHANNELS, 16, num_outs=5)
    w = fa.fusion_weights()
    assert w.shape == (4, 4)
    assert torch.allclose(w, torch.full((4, 4), 0.25))
    with torch.no_grad():
        fa.fusion_logits.normal_()
    assert torch.allclose(fa.fusion_weights().sum(1), torch.ones(4))


@pytest.mark.parametrize('norm_cfg', [None, dict(type='GN', num_groups=4)])
def test_every_parameter_gets_a_gradient(norm_cfg):
    fa = FA(CHANNELS, 16, num_outs=6, add_extra_convs='on_input', relu_before_extra_convs=True,
            norm_cfg=norm_cfg)
    fa.init_weights()
    out = fa(feats())
    torch.manual_seed(1)
    sum((o * torch.randn_like(o)).sum() for o in out).backward()
    for name, p in fa.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_cascaded_fusion_equals_the_direct_weighted_sum():
    # reference: resize every lateral straight to level i, weight, sum
    import torch.nn.functional as F
    fa = FA(CHANNELS, 16, num_outs=4)
    with torch.no_grad():
        fa.fusion_logits.normal_()
        lats = [torch.randn(1, 16, s, s) for s in (32, 16, 8, 4)]
        fused = fa.fuse(lats)
        w = fa.fusion_weights()
        for i, out in enumerate(fused):
            size = lats[i].shape[-2:]
            ref = sum(w[i, j] * (F.adaptive_max_pool2d(x, size) if x.shape[-1] > size[-1]
                                 else F.interpolate(x, size=size, mode='nearest'))
                      for j, x in enumerate(lats))
            assert torch.allclose(out, ref, atol=1e-5), i
