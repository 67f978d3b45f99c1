# Supervised baseline: Faster R-CNN (slim R-18, FPN) from scratch on the synthetic chest X-rays,
# CPU sized: 320 px input, 1k iterations of batch 4 (about 9 minutes on 2 cores), AdamW, every
# training label (annotations/train.json).
_base_ = [
    '../_base_/models/faster-rcnn_r18-slim_fpn_scratch.py',
    '../_base_/datasets/synth_cxr_detection_cpu.py',
    '../_base_/schedules/schedule_cpu-1k.py',
    '../_base_/default_runtime.py',
]
default_hooks = dict(checkpoint=dict(interval=500))
