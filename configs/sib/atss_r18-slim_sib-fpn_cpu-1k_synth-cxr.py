# ATSS with SIB before its FPN (SIB composes into any detector), CPU sized, synthetic CXR.
# Same data and CPU recipe as configs/faster_rcnn/faster-rcnn_r18-slim_fpn_cpu-1k_synth-cxr.py.
_base_ = [
    '../_base_/models/atss_r18-slim_sib-fpn_scratch.py',
    '../_base_/datasets/synth_cxr_detection_cpu.py',
    '../_base_/schedules/schedule_cpu-1k.py',
    '../_base_/default_runtime.py',
]
default_hooks = dict(checkpoint=dict(interval=500))
