"""Scale-Invariant Bottleneck (SIB): multi-granularity enhancement of encoder features."""
from typing import List, Optional, Sequence, Tuple, Union

from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmdet.registry import MODELS
from mmdet.utils import OptConfigType, OptMultiConfig
from .edm import EDM, ConnectionBlock, fit_norm_cfg


class SIBBranch(BaseModule):
    """SIB on one feature map: ``x + out_proj(Σ_k ℓ_k)`` (see :class:`SIB`)."""

    def __init__(self,
                 in_channels: int,
                 mid_channels: int,
                 num_levels: int,
                 edm_depth: int,
                 norm_cfg: OptConfigType,
                 act_cfg: OptConfigType,
                 upsample_mode: str = 'bilinear',
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        mid_norm = fit_norm_cfg(norm_cfg, mid_channels)
        self.in_proj = ConvModule(in_channels, mid_channels, 1, norm_cfg=mid_norm, act_cfg=act_cfg)
        self.edms = nn.ModuleList(
            EDM(mid_channels, edm_depth, norm_cfg=norm_cfg, act_cfg=act_cfg, upsample_mode=upsample_mode)
            for _ in range(num_levels))
        self.connections = nn.ModuleList(
            ConnectionBlock(mid_channels, norm_cfg=norm_cfg, act_cfg=act_cfg)
            for _ in range(num_levels - 1))
        self.out_proj = ConvModule(mid_channels, in_channels, 1,
                                   norm_cfg=fit_norm_cfg(norm_cfg, in_channels), act_cfg=None)
        self.zero_init_residual()

    def zero_init_residual(self) -> None:
        """Zero the last layer of ``out_proj`` (its norm's weight, else the conv), so the branch
        is the identity ``F_e = F_b`` at initialisation."""
        last = self.out_proj.norm if self.out_proj.with_norm else self.out_proj.conv
        nn.init.zeros_(last.weight)
        if getattr(last, 'bias', None) is not None:
            nn.init.zeros_(last.bias)

    def init_weights(self) -> None:
        super().init_weights()  # ConvModule's init sets norm weights to 1 ...
        if not (isinstance(self.init_cfg, dict) and self.init_cfg.get('type') == 'Pretrained'):
            self.zero_init_residual()  # ... so zero the residual's last layer again

    @staticmethod
    def additive(level_outs: Sequence[Tensor]) -> Tensor:
        """The Additive Module: F_e = ℓ_1 + … + ℓ_N."""
        out = level_outs[0]
        for y in level_outs[1:]:
            out = out + y
        return out

    def forward(self, x: Tensor) -> Tensor:
        """Enhance one backbone map through the chained EDM levels.

        Args:
            x (Tensor): backbone map, (N, C, H, W).

        Returns:
            Tensor: ``x`` plus the projected sum of the EDM outputs, (N, C, H, W).
        """
        base = self.in_proj(x)
        y = self.edms[0](base)
        level_outs = [y]
        for conn, edm in zip(self.connections, self.edms[1:]):
            y = edm(conn(base, y))
            level_outs.append(y)
        return x + self.out_proj(self.additive(level_outs))


@MODELS.register_module(name=['SIB', 'ScaleInvariantBottleneck'])
class SIB(BaseModule):
    """Scale-Invariant Bottleneck: enhances each selected feature map F_b into F_e.

    For one input map F_b: ``b = in_proj(F_b)`` (1×1 conv to ``mid_channels``); level ℓ_1 =
    EDM_1(b); level ℓ_k = EDM_k(C_ED(b, ℓ_{k-1})) for k > 1, C_ED being a 1×1 conv over the
    concatenation; the Additive Module sums ℓ_1 … ℓ_N; a 1×1 conv (norm, no activation)
    projects back to the input width and is added to F_b as a residual:
    ``F_e = F_b + out_proj(Σ_k ℓ_k)``. The last layer of ``out_proj`` (its norm's weight) starts
    at zero, so SIB is the identity at initialisation and an ImageNet-pretrained backbone's
    features reach the next neck unchanged; the residual also gives a short gradient path.
    Each EDM is an hourglass (see :class:`EDM`) that resizes to the skip's exact size, so any
    H×W (odd included) works. The output tuple has the length, channels and sizes of the input,
    so SIB stands before FPN, PAFPN, :class:`FA` or any neck (``neck=[SIB, FPN]``).

    Defaults and why: ``num_levels=3`` EDMs of ``edm_depth=3`` (receptive field grows with
    both, which is what spans calcifications to cardiomegaly); ``mid_channels=64`` internal
    width, which keeps the AnoMed detector (Faster R-CNN R-50 + SIB + FA) at 1.058× the FLOPs
    of Faster R-CNN R-50-FPN at 1024² (target ≤ 1.15×, see docs/necks.md) while
    enhancing all input levels (``enhance_indices='all'``, so the stride-4 map that carries
    small lesions is enhanced too); GN, so a mean-teacher EMA sees no BN-statistics drift.
    With necks that skip level 0 (``start_level=1``: RetinaNet, FCOS, ATSS) pass
    ``enhance_indices=(1, 2, 3)`` so no compute is spent on an unused map.

    Args:
        in_channels (int | list[int]): Channels of each input map; an int means every map has
            that width (``num_ins`` maps).
        num_levels (int): N, the number of EDM levels (>= 1). Default 3.
        edm_depth (int): Downsampling steps in each EDM (>= 1). Default 3.
        mid_channels (int | list[int] | None): Internal width (reduced width for cost); a list
            gives one per input map; None keeps each input's width. Default 64.
        enhance_indices (str | sequence[int]): ``'all'`` or indices of the input maps to
            enhance (negative allowed); the others pass through unchanged.
        num_ins (int, optional): Number of input maps when ``in_channels`` is an int.
        norm_cfg (dict, optional): Default ``GN`` with 32 groups (lowered to gcd(32, width)).
        act_cfg (dict, optional): Default ``ReLU``.
        upsample_mode (str): Decoder interpolation mode. Default ``'bilinear'``.
        init_cfg (dict | list[dict], optional): Initialisation config; ConvModule's
            Kaiming init when None.
    """

    def __init__(self,
                 in_channels: Union[int, Sequence[int]],
                 num_levels: int = 3,
                 edm_depth: int = 3,
                 mid_channels: Union[int, Sequence[int], None] = 64,
                 enhance_indices: Union[str, Sequence[int]] = 'all',
                 num_ins: Optional[int] = None,
                 norm_cfg: OptConfigType = dict(type='GN', num_groups=32, requires_grad=True),
                 act_cfg: OptConfigType = dict(type='ReLU'),
                 upsample_mode: str = 'bilinear',
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_levels < 1:
            raise ValueError(f'num_levels must be >= 1, got {num_levels}')
        if isinstance(in_channels, int):
            in_channels = [in_channels] * (num_ins or 1)
        elif num_ins is not None and num_ins != len(in_channels):
            raise ValueError(f'num_ins={num_ins} but {len(in_channels)} in_channels given')
        self.in_channels: List[int] = list(in_channels)
        n = len(self.in_channels)
        if isinstance(enhance_indices, str):
            if enhance_indices != 'all':
                raise ValueError(f"enhance_indices must be 'all' or indices, got {enhance_indices!r}")
            indices = list(range(n))
        else:
            indices = sorted({i % n for i in enhance_indices if -n <= i < n})
            if len(indices) != len(set(enhance_indices)):
                raise ValueError(f'enhance_indices {enhance_indices} out of range for {n} inputs')
        if mid_channels is None:
            mids = list(self.in_channels)
        elif isinstance(mid_channels, int):
            mids = [mid_channels] * n
        else:
            mids = list(mid_channels)
            if len(mids) != n:
                raise ValueError(f'{len(mids)} mid_channels for {n} inputs')
        self.enhance_indices: Tuple[int, ...] = tuple(indices)
        self.num_levels = num_levels
        self.edm_depth = edm_depth
        # ModuleDict keys must be strings: the input index
        self.branches = nn.ModuleDict({
            str(i): SIBBranch(self.in_channels[i], mids[i], num_levels, edm_depth, norm_cfg,
                              act_cfg, upsample_mode)
            for i in indices
        })

    def forward(self, inputs: Union[Tensor, Sequence[Tensor]]) -> Union[Tensor, Tuple[Tensor, ...]]:
        """Enhance the selected maps (``enhance_indices``); the others pass through.

        Args:
            inputs (Tensor | Sequence[Tensor]): the backbone maps, one per ``in_channels``
                entry, each (N, C_i, H_i, W_i); or a single map.

        Returns:
            Tensor | tuple[Tensor]: the maps in the same number, shapes and order (a single
            map for a single input).
        """
        single = isinstance(inputs, Tensor)
        feats = [inputs] if single else list(inputs)
        if len(feats) != len(self.in_channels):
            raise ValueError(f'SIB built for {len(self.in_channels)} inputs, got {len(feats)} '
                             '(set in_channels as a list or num_ins)')
        outs = tuple(self.branches[str(i)](x) if str(i) in self.branches else x
                     for i, x in enumerate(feats))
        return outs[0] if single else outs
