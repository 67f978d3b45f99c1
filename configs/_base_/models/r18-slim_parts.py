# The parts of the CPU-sized models, defined once: a half-width ResNet-18 (stage widths
# 32-256, base_channels=32) trained from scratch (nothing is downloaded), its data
# preprocessor (grayscale radiographs read as three equal channels), the slim SIB + FA neck
# (SIB: N=3, EDM depth 3, 32-channel internal width, GN; FA: 5 levels of 64 channels) and the
# SIB placed before an FPN that starts at C3 (it enhances only the maps FPN uses), with that FPN
# (P3-P7, extra levels from its outputs) for the single-stage heads.
norm_cfg = dict(type='BN', requires_grad=True)
slim_channels = [32, 64, 128, 256]
slim_data_preprocessor = dict(
    type='DetDataPreprocessor', mean=[128.0, 128.0, 128.0], std=[64.0, 64.0, 64.0],
    bgr_to_rgb=False, pad_size_divisor=32)
slim_backbone = dict(
    type='ResNet', depth=18, base_channels=32, num_stages=4, out_indices=(0, 1, 2, 3),
    frozen_stages=-1, norm_cfg=norm_cfg, norm_eval=False, style='pytorch', init_cfg=None)
slim_sib_fa_neck = [
    dict(type='SIB', in_channels=slim_channels, mid_channels=32),
    dict(type='FA', in_channels=slim_channels, out_channels=64, num_outs=5),
]
slim_sib_c3 = dict(type='SIB', in_channels=slim_channels, mid_channels=32, enhance_indices=(1, 2, 3))
slim_fpn_c3 = dict(type='FPN', in_channels=slim_channels, out_channels=64, start_level=1,
                   add_extra_convs='on_output', num_outs=5)
