# The AnoMed detector, CPU sized: the slim R-18 Faster R-CNN (stage widths 32-256, from scratch)
# with neck = SIB (N=3, EDM depth 3, 32-channel internal width, GN) + FA (5 levels of 64).
# configs/sib/faster-rcnn_r18-slim_sib-fa_cpu-1k_synth-cxr.py uses the same neck (a test checks).
_base_ = './faster-rcnn_r18-slim_fpn_scratch.py'

model = dict(
    neck=[
        dict(type='SIB', in_channels=[32, 64, 128, 256], mid_channels=32),
        dict(type='FA', in_channels=[32, 64, 128, 256], out_channels=64, num_outs=5),
    ])
