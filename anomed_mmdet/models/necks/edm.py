"""Building blocks of the Scale-Invariant Bottleneck: the encoder–decoder module (EDM) and
the connection block C_ED that feeds a later EDM with the base feature and the previous output."""

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmdet.utils import OptConfigType, OptMultiConfig


def fit_norm_cfg(norm_cfg: OptConfigType, channels: int) -> OptConfigType:
    """Return ``norm_cfg`` usable for ``channels``: GN's ``num_groups`` is lowered to the
    largest divisor of ``channels`` that leaves at least two channels per group, so narrow
    CPU/test widths build and a 1×1 map (the bottom of an EDM on a tiny image) still normalises."""
    if norm_cfg is None or norm_cfg.get('type') != 'GN':
        return norm_cfg
    cfg = dict(norm_cfg)
    groups = min(int(cfg.get('num_groups', 32)), max(channels // 2, 1))
    while channels % groups:
        groups -= 1
    cfg['num_groups'] = groups
    return cfg


def resize_to(x: Tensor, ref: Tensor, mode: str = 'bilinear') -> Tensor:
    """Resize ``x`` to the exact spatial size of ``ref`` (odd sizes included)."""
    if x.shape[-2:] == ref.shape[-2:]:
        return x
    kwargs = dict(align_corners=False) if mode in ('bilinear', 'bicubic') else {}
    return F.interpolate(x, size=ref.shape[-2:], mode=mode, **kwargs)


class EDM(BaseModule):
    """Encoder–decoder module: a constant-width hourglass with skips.

    The encoder applies ``depth`` stride-2 3×3 convs (resolutions 1/2 … 1/2^depth); a 3×3
    conv refines the coarsest map; the decoder upsamples to the exact size of each skip,
    adds it and refines with a 3×3 conv, back up to 1/2. The last step to full resolution is
    ``x + upsample(y)`` without a conv, so no 3×3 conv runs at the input resolution: the
    module costs about ``6·C²·H·W`` MACs whatever ``depth`` is.

    Args:
        channels (int): Input and output channels.
        depth (int): Number of downsampling steps, >= 1.
        norm_cfg (dict, optional): Norm layer config.
        act_cfg (dict, optional): Activation config.
        upsample_mode (str): ``F.interpolate`` mode of the decoder.
    """

    def __init__(self,
                 channels: int,
                 depth: int = 3,
                 norm_cfg: OptConfigType = dict(type='GN', num_groups=32, requires_grad=True),
                 act_cfg: OptConfigType = dict(type='ReLU'),
                 upsample_mode: str = 'bilinear',
                 init_cfg: OptMultiConfig = None) -> None:
        if depth < 1:
            raise ValueError(f'EDM depth must be >= 1, got {depth}')
        super().__init__(init_cfg=init_cfg)
        norm_cfg = fit_norm_cfg(norm_cfg, channels)

        def conv(stride: int = 1) -> ConvModule:
            return ConvModule(channels, channels, 3, stride=stride, padding=1,
                              norm_cfg=norm_cfg, act_cfg=act_cfg)

        self.depth = depth
        self.upsample_mode = upsample_mode
        self.down = nn.ModuleList(conv(stride=2) for _ in range(depth))
        self.bottom = conv()
        # decoder convs at resolutions 1/2^(depth-1) … 1/2
        self.up = nn.ModuleList(conv() for _ in range(depth - 1))

    def forward(self, x: Tensor) -> Tensor:
        """Encode ``depth`` times at half resolution, decode back with skip additions.

        Args:
            x (Tensor): feature map of shape (N, channels, H, W).

        Returns:
            Tensor: ``x`` plus the decoded map, same shape as ``x``.
        """
        skips = [x]
        for down in self.down:
            skips.append(down(skips[-1]))
        y = self.bottom(skips[-1])
        for j in range(self.depth - 1, 0, -1):
            y = self.up[j - 1](skips[j] + resize_to(y, skips[j], self.upsample_mode))
        return x + resize_to(y, x, self.upsample_mode)


class ConnectionBlock(BaseModule):
    """C_ED: fuses the (reduced) base feature with the previous EDM's output into the input
    of the next EDM: ``act(norm(conv1x1(concat(base, prev))))``."""

    def __init__(self,
                 channels: int,
                 norm_cfg: OptConfigType = dict(type='GN', num_groups=32, requires_grad=True),
                 act_cfg: OptConfigType = dict(type='ReLU'),
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.fuse = ConvModule(2 * channels, channels, 1, norm_cfg=fit_norm_cfg(norm_cfg, channels),
                               act_cfg=act_cfg)

    def forward(self, base: Tensor, prev: Tensor) -> Tensor:
        """Fuse the base feature with the previous EDM's output.

        Args:
            base (Tensor): the reduced input map, (N, channels, H, W).
            prev (Tensor): the previous EDM's output, same shape.

        Returns:
            Tensor: the next EDM's input, (N, channels, H, W).
        """
        return self.fuse(torch.cat([base, prev], dim=1))


__all__ = ['EDM', 'ConnectionBlock', 'fit_norm_cfg', 'resize_to']
