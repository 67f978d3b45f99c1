"""SIB: registration, output contract, gradients, and the Additive Module summing every level."""
import pytest
import torch

from anomed_mmdet.models.necks import EDM, SIB, SIBBranch
from mmdet.registry import MODELS

CHANNELS = [8, 16, 32]


def feats(sizes=((33, 47), (17, 24), (9, 12)), channels=CHANNELS, batch=2):
    torch.manual_seed(0)
    return tuple(torch.randn(batch, c, h, w) for c, (h, w) in zip(channels, sizes))


def away_from_init(sib: SIB) -> SIB:
    """As after some training: the zero-initialised last layer of each branch is non-zero."""
    for branch in sib.branches.values():
        last = branch.out_proj.norm if branch.out_proj.with_norm else branch.out_proj.conv
        torch.nn.init.ones_(last.weight)
    return sib



def test_both_names_are_registered():
    assert MODELS.get('SIB') is SIB
    assert MODELS.get('ScaleInvariantBottleneck') is SIB
    assert isinstance(MODELS.build(dict(type='ScaleInvariantBottleneck', in_channels=CHANNELS,
                                        mid_channels=8)), SIB)


@pytest.mark.parametrize('num_levels', [1, 2, 3, 4])
@pytest.mark.parametrize('norm', ['GN', 'BN'])
def test_output_contract_levels_and_norms(num_levels, norm):
    norm_cfg = dict(type=norm, requires_grad=True)
    if norm == 'GN':
        norm_cfg['num_groups'] = 4
    sib = SIB(CHANNELS, num_levels=num_levels, edm_depth=2, mid_channels=8, norm_cfg=norm_cfg)
    x = feats()
    out = sib(x)
    assert isinstance(out, tuple) and len(out) == len(x)
    for o, i in zip(out, x):
        assert o.shape == i.shape
    assert len(sib.branches['0'].edms) == num_levels
    assert len(sib.branches['0'].connections) == num_levels - 1


@pytest.mark.parametrize('sizes', [((64, 64), (32, 32), (16, 16)), ((31, 17), (16, 9), (8, 5)),
                                   ((3, 5), (2, 3), (1, 1))])
@pytest.mark.parametrize('depth', [1, 3, 4])
def test_any_size_including_odd_and_tiny(sizes, depth):
    sib = SIB(CHANNELS, num_levels=2, edm_depth=depth, mid_channels=8).eval()
    x = feats(sizes, batch=1)
    with torch.no_grad():
        out = sib(x)
    assert [o.shape for o in out] == [i.shape for i in x]


@pytest.mark.parametrize('indices,expected', [('all', (0, 1, 2)), ((0,), (0,)), ((1, 2), (1, 2)),
                                              ((-1,), (2,))])
def test_subset_of_levels_others_pass_through(indices, expected):
    sib = away_from_init(SIB(CHANNELS, enhance_indices=indices, mid_channels=8))
    assert sib.enhance_indices == expected
    x = feats()
    out = sib(x)
    for i, (o, inp) in enumerate(zip(out, x)):
        assert o.shape == inp.shape
        if i in expected:
            assert not torch.equal(o, inp)
        else:
            assert o is inp


def test_int_in_channels_single_tensor_and_full_width():
    sib = SIB(16, num_ins=2, mid_channels=None, num_levels=1)
    assert sib.in_channels == [16, 16]
    assert sib.branches['0'].in_proj.conv.out_channels == 16  # mid None: the input's width
    x = torch.randn(1, 16, 11, 13)
    assert len(sib((x, x))) == 2
    single = SIB(16, mid_channels=8)
    assert single(x).shape == x.shape  # one tensor in, one tensor out
    per_level = SIB(CHANNELS, mid_channels=[4, 8, 16])
    assert [per_level.branches[str(i)].in_proj.conv.out_channels for i in range(3)] == [4, 8, 16]


@pytest.mark.parametrize('kwargs', [dict(num_levels=0), dict(enhance_indices=(5,)),
                                    dict(enhance_indices='some'), dict(mid_channels=[8, 8]),
                                    dict(edm_depth=0)])
def test_bad_arguments_raise(kwargs):
    with pytest.raises(ValueError):
        SIB(CHANNELS, **kwargs)


def test_wrong_number_of_inputs_raises():
    with pytest.raises(ValueError):
        SIB(CHANNELS, mid_channels=8)(feats()[:2])


@pytest.mark.parametrize('norm', ['GN', 'BN'])
def test_every_parameter_gets_a_gradient(norm):
    norm_cfg = dict(type=norm, num_groups=4) if norm == 'GN' else dict(type=norm)
    sib = away_from_init(SIB(CHANNELS, num_levels=3, edm_depth=2, mid_channels=8, norm_cfg=norm_cfg))
    out = sib(feats())
    torch.manual_seed(1)
    sum((o * torch.randn_like(o)).sum() for o in out).backward()
    for name, p in sib.named_parameters():
        assert p.grad is not None, name
        assert p.grad.abs().sum() > 0, name


def additive_sums_all_levels(branch: SIBBranch, x: torch.Tensor) -> bool:
    """Whether the input of ``out_proj`` equals the sum of every EDM's output."""
    level_outs, fused = [], []
    hooks = [edm.register_forward_hook(lambda m, i, o: level_outs.append(o)) for edm in branch.edms]
    hooks.append(branch.out_proj.register_forward_pre_hook(lambda m, i: fused.append(i[0])))
    try:
        with torch.no_grad():
            branch(x)
    finally:
        for h in hooks:
            h.remove()
    assert len(level_outs) == len(branch.edms) and len(fused) == 1
    return torch.allclose(fused[0], torch.stack(level_outs).sum(0), atol=1e-5)


@pytest.mark.parametrize('num_levels', [2, 3, 4])
def test_additive_module_sums_every_level(num_levels):
    sib = SIB(CHANNELS, num_levels=num_levels, edm_depth=2, mid_channels=8).eval()
    x = feats()
    for i, branch in sib.branches.items():
        assert additive_sums_all_levels(branch, x[int(i)])


def test_additive_check_catches_a_dropped_level(monkeypatch):
    # the check above must fail if the Additive Module dropped a level
    sib = SIB(CHANNELS, num_levels=3, edm_depth=2, mid_channels=8).eval()
    for drop in range(3):
        monkeypatch.setattr(SIBBranch, 'additive',
                            staticmethod(lambda outs, d=drop: sum(o for k, o in enumerate(outs) if k != d)))
        assert not additive_sums_all_levels(sib.branches['0'], feats()[0])


def test_last_level_reaches_the_output():
    # the last EDM feeds nothing but the Additive Module: perturbing it must change F_e
    sib = away_from_init(SIB(CHANNELS, num_levels=3, edm_depth=2, mid_channels=8)).eval()
    x = feats()
    with torch.no_grad():
        ref = sib(x)
        handle = sib.branches['1'].edms[-1].register_forward_hook(lambda m, i, o: o + 1.0)
        out = sib(x)
        handle.remove()
    assert torch.equal(out[0], ref[0]) and torch.equal(out[2], ref[2])
    assert not torch.allclose(out[1], ref[1])


def test_edm_restores_resolution_with_skips():
    edm = EDM(8, depth=3, norm_cfg=dict(type='GN', num_groups=32)).eval()
    assert edm.bottom.norm.num_groups == 4  # lowered: two channels per group at least
    assert len(edm.down) == 3 and len(edm.up) == 2
    x = torch.randn(1, 8, 23, 9)
    with torch.no_grad():
        assert edm(x).shape == x.shape


@pytest.mark.parametrize('norm_cfg', [dict(type='GN', num_groups=32, requires_grad=True), None])
def test_sib_is_the_identity_at_initialisation_and_learns_away_from_it(norm_cfg):
    torch.manual_seed(0)
    sib = SIB(in_channels=[32, 64], mid_channels=32, norm_cfg=norm_cfg)
    sib.init_weights()  # as the Runner does; ConvModule's own init must not undo the zero
    feats = (torch.randn(2, 32, 24, 24), torch.randn(2, 64, 12, 12))
    outs = sib(feats)
    for f, o in zip(feats, outs):
        assert float((o - f).norm() / f.norm()) < 1e-6
    sum(o.sum() for o in outs).backward()  # the zeroed layer still receives a gradient
    last = sib.branches['0'].out_proj
    assert ((last.norm if last.with_norm else last.conv).weight.grad.abs().sum()) > 0
