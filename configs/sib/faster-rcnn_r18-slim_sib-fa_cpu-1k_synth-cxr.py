# The AnoMed detector (supervised), CPU sized: Faster R-CNN, slim R-18 from scratch,
# neck = SIB + FA, same data and recipe as the FPN baseline it inherits from
# (configs/faster_rcnn/faster-rcnn_r18-slim_fpn_cpu-1k_synth-cxr.py), so the two compare.
# The neck equals configs/_base_/models/faster-rcnn_r18-slim_sib-fa_scratch.py (a test checks).
_base_ = '../faster_rcnn/faster-rcnn_r18-slim_fpn_cpu-1k_synth-cxr.py'

model = dict(
    neck=[
        dict(type='SIB', in_channels=[32, 64, 128, 256], mid_channels=32),
        dict(type='FA', in_channels=[32, 64, 128, 256], out_channels=64, num_outs=5),
    ])
