# SIB takes any encoder: the AnoMed detector with an mmpretrain ConvNeXt instead of ResNet
# (a slim 2-2-2-2 arch, widths 32-256 like the slim R-18, from scratch on the CPU).
_base_ = './faster-rcnn_r18-slim_sib-fa_cpu-1k_synth-cxr.py'

custom_imports = dict(imports=['anomed_mmdet', 'mmpretrain.models'], allow_failed_imports=False)
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmpretrain.ConvNeXt',
        arch=dict(depths=[2, 2, 2, 2], channels=[32, 64, 128, 256]),
        out_indices=[0, 1, 2, 3],
        drop_path_rate=0.1,
        gap_before_final_norm=False))
