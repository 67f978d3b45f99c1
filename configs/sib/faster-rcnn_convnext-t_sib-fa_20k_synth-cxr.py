# The AnoMed detector at paper scale on an mmpretrain encoder: ConvNeXt-T (ImageNet-1k weights
# from OpenMMLab, through init_cfg) + SIB + FA, 512 px synthetic CXR, 20k iterations, AdamW.
_base_ = './faster-rcnn_r50_sib-fa_20k_synth-cxr.py'

custom_imports = dict(imports=['anomed_mmdet', 'mmpretrain.models'], allow_failed_imports=False)
checkpoint_file = 'https://download.openmmlab.com/mmclassification/v0/convnext/downstream/convnext-tiny_3rdparty_32xb128-noema_in1k_20220301-795e9634.pth'  # noqa
channels = [96, 192, 384, 768]
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmpretrain.ConvNeXt',
        arch='tiny',
        out_indices=[0, 1, 2, 3],
        drop_path_rate=0.4,
        layer_scale_init_value=1.0,
        gap_before_final_norm=False,
        init_cfg=dict(type='Pretrained', checkpoint=checkpoint_file, prefix='backbone.')),
    neck=[
        dict(type='SIB', in_channels=channels),
        dict(type='FA', in_channels=channels, out_channels=256, num_outs=5),
    ])
optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0))
