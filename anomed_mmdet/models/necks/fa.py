"""Feature Aggregator (FA): an FPN-contract neck in which every output level sees every input."""
from typing import List, Tuple, Union

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmdet.registry import MODELS
from mmdet.utils import OptConfigType, OptMultiConfig


def shrink(x: Tensor, size: Tuple[int, int]) -> Tensor:
    """Max-pool ``x`` down to ``size`` (keeps small, bright findings): a 2×2 ceil-mode pool when
    ``size`` is the next pyramid level (as stride-2 backbones produce), else adaptive max-pool."""
    h, w = x.shape[-2:]
    if (h, w) == tuple(size):
        return x
    if ((h + 1) // 2, (w + 1) // 2) == tuple(size):
        return F.max_pool2d(x, 2, stride=2, ceil_mode=True)
    return F.adaptive_max_pool2d(x, size)


def grow(x: Tensor, size: Tuple[int, int], mode: str = 'nearest') -> Tensor:
    """Interpolate ``x`` to the exact ``size`` (odd sizes included)."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    return F.interpolate(x, size=size, mode=mode)


@MODELS.register_module(name=['FA', 'FeatureAggregator'])
class FA(BaseModule):
    """Feature Aggregator: the second neck stage of AnoMed (after :class:`SIB`).

    A 1×1 lateral conv brings each used input (``start_level`` … ``end_level``) to
    ``out_channels``. For each output level i, every lateral is resized to level i's exact
    size (max-pooled from finer maps, nearest-upsampled from coarser ones; see :meth:`fuse`)
    and the resized maps are fused with learnt softmax weights (one vector per output level,
    starting uniform; softmax keeps every weight positive, so every output level sees every
    input level); a 3×3 conv then smooths the sum. Extra levels follow FPN exactly (``add_extra_convs`` False: stride-2
    max-pool of the last output; ``'on_input' | 'on_lateral' | 'on_output'``: stride-2 3×3
    convs), so RPN, RetinaNet, FCOS and ATSS heads take FA unchanged. The cost is that of FPN
    plus the resizes (no extra conv).

    Args:
        in_channels (list[int]): Channels of each input map.
        out_channels (int): Channels of every output map.
        num_outs (int): Number of output maps.
        start_level (int): First input used. Default 0.
        end_level (int): Last input used (-1: the last); no extra level unless it is the last.
        add_extra_convs (bool | str): As in FPN. Default False.
        relu_before_extra_convs (bool): ReLU before the 2nd+ extra convs. Default False.
        conv_cfg, norm_cfg, act_cfg (dict, optional): Layer configs of the convs (FPN's
            defaults: no norm, no activation).
        upsample_mode (str): Interpolation mode when growing a map. Default ``'nearest'``.
        init_cfg (dict | list[dict]): Default Xavier-uniform on convs, as FPN.
    """

    def __init__(self,
                 in_channels: List[int],
                 out_channels: int,
                 num_outs: int,
                 start_level: int = 0,
                 end_level: int = -1,
                 add_extra_convs: Union[bool, str] = False,
                 relu_before_extra_convs: bool = False,
                 conv_cfg: OptConfigType = None,
                 norm_cfg: OptConfigType = None,
                 act_cfg: OptConfigType = None,
                 upsample_mode: str = 'nearest',
                 init_cfg: OptMultiConfig = dict(type='Xavier', layer='Conv2d', distribution='uniform')
                 ) -> None:
        super().__init__(init_cfg=init_cfg)
        assert isinstance(in_channels, (list, tuple))
        self.in_channels = list(in_channels)
        self.out_channels = out_channels
        self.num_ins = len(in_channels)
        self.num_outs = num_outs
        self.relu_before_extra_convs = relu_before_extra_convs
        self.upsample_mode = upsample_mode
        if end_level == -1 or end_level == self.num_ins - 1:
            self.backbone_end_level = self.num_ins
            assert num_outs >= self.num_ins - start_level
        else:  # no extra level when the last input is not used
            self.backbone_end_level = end_level + 1
            assert end_level < self.num_ins
            assert num_outs == end_level - start_level + 1
        self.start_level = start_level
        self.end_level = end_level
        if isinstance(add_extra_convs, str):
            assert add_extra_convs in ('on_input', 'on_lateral', 'on_output'), add_extra_convs
        elif add_extra_convs:
            add_extra_convs = 'on_input'
        self.add_extra_convs = add_extra_convs

        used = range(start_level, self.backbone_end_level)
        self.lateral_convs = nn.ModuleList(
            ConvModule(self.in_channels[i], out_channels, 1, conv_cfg=conv_cfg, norm_cfg=norm_cfg,
                       act_cfg=act_cfg, inplace=False) for i in used)
        self.fa_convs = nn.ModuleList(
            ConvModule(out_channels, out_channels, 3, padding=1, conv_cfg=conv_cfg,
                       norm_cfg=norm_cfg, act_cfg=act_cfg, inplace=False) for _ in used)
        # fusion logits: row i = output level i, column j = input level j
        self.fusion_logits = nn.Parameter(torch.zeros(len(used), len(used)))

        self.extra_convs = nn.ModuleList()
        extra_levels = num_outs - self.backbone_end_level + start_level
        if self.add_extra_convs and extra_levels >= 1:
            for i in range(extra_levels):
                if i == 0 and self.add_extra_convs == 'on_input':
                    ch = self.in_channels[self.backbone_end_level - 1]
                else:
                    ch = out_channels
                self.extra_convs.append(
                    ConvModule(ch, out_channels, 3, stride=2, padding=1, conv_cfg=conv_cfg,
                               norm_cfg=norm_cfg, act_cfg=act_cfg, inplace=False))

    def fusion_weights(self) -> Tensor:
        """Softmax fusion weights, shape (num used levels, num used levels), rows sum to 1."""
        return self.fusion_logits.softmax(dim=1)

    def fuse(self, laterals: List[Tensor]) -> List[Tensor]:
        """F_i = Σ_j w_ij · resize_i(L_j) for every used level i (before the 3×3 convs).

        Computed in cascades for speed, without changing what it means: finer maps are
        max-pooled level by level (each map is read once), coarser maps are weighted at their
        own resolution and upsampled level by level (nearest upsampling is linear, so this is
        the weighted sum of each map upsampled to level i)."""
        n = len(laterals)
        sizes = [tuple(x.shape[-2:]) for x in laterals]
        w = self.fusion_weights()
        pooled: List[List[Tensor]] = []  # pooled[j][i - j - 1]: L_j max-pooled to level i > j
        for j in range(n):
            chain, x = [], laterals[j]
            for i in range(j + 1, n):
                x = shrink(x, sizes[i])
                chain.append(x)
            pooled.append(chain)
        fused = []
        for i in range(n):
            out = w[i, i] * laterals[i]
            coarse = None
            for j in range(n - 1, i, -1):
                term = w[i, j] * laterals[j]
                coarse = term if coarse is None else term + grow(coarse, sizes[j], self.upsample_mode)
            if coarse is not None:
                out = out + grow(coarse, sizes[i], self.upsample_mode)
            for j in range(i):
                out = out + w[i, j] * pooled[j][i - j - 1]
            fused.append(out)
        return fused

    def forward(self, inputs: Tuple[Tensor, ...]) -> Tuple[Tensor, ...]:
        """Fuse the backbone (or SIB) maps across levels into the FPN output contract.

        Args:
            inputs (tuple[Tensor]): one map per ``in_channels`` entry, (N, C_i, H_i, W_i).

        Returns:
            tuple[Tensor]: ``num_outs`` maps of ``out_channels`` channels, from level
            ``start_level`` down, extra levels at stride 2 each.
        """
        assert len(inputs) == len(self.in_channels), (len(inputs), len(self.in_channels))
        laterals = [conv(inputs[i + self.start_level]) for i, conv in enumerate(self.lateral_convs)]
        outs = [conv(x) for conv, x in zip(self.fa_convs, self.fuse(laterals))]

        if self.num_outs > len(outs):
            if not self.add_extra_convs:
                while len(outs) < self.num_outs:
                    outs.append(F.max_pool2d(outs[-1], 1, stride=2))
            else:
                if self.add_extra_convs == 'on_input':
                    source = inputs[self.backbone_end_level - 1]
                elif self.add_extra_convs == 'on_lateral':
                    source = laterals[-1]
                else:
                    source = outs[-1]
                outs.append(self.extra_convs[0](source))
                for conv in self.extra_convs[1:]:
                    x = F.relu(outs[-1]) if self.relu_before_extra_convs else outs[-1]
                    outs.append(conv(x))
        return tuple(outs)
