# Fine-tune the CPU AnoMed detector (slim R-18, SIB + FA) on another X-ray domain in COCO
# format, starting from an AnoMed checkpoint's teacher (docs/inference.md, "Fine-tuning"):
#   python tools/model_converters/extract_teacher.py \
#       configs/anomed/anomed_faster-rcnn_r18-slim_sib-fa_cpu-0.3k-ft_semi-0.1-synth-cxr.py \
#       work_dirs/demo/anomed/iter_300.pth work_dirs/anomed_teacher        (`make demo`'s AnoMed)
#   python tools/train.py configs/finetune/faster-rcnn_r18-slim_sib-fa_cpu-0.5k-ft_coco-xray.py
# The box head is re-initialised when the class count differs from the checkpoint's (mmengine
# skips the mismatched fc_cls / fc_reg with a warning; everything else is loaded).
# 500 iterations of batch 2 at 320 px, AdamW 5e-4.
_base_ = [
    '../_base_/models/faster-rcnn_r18-slim_sib-fa_scratch.py',
    '../_base_/datasets/coco_xray_detection_cpu.py',
    '../_base_/schedules/schedule_cpu-1k.py',
    '../_base_/default_runtime.py',
]

# ---- your data: edit here (or override these keys in a child config) ----
data_root = 'data/coco_xray/'
classes = ('fracture', )
load_from = 'work_dirs/anomed_teacher/anomed_faster-rcnn_r18-slim_sib-fa_cpu-0.3k-ft_semi-0.1-synth-cxr_teacher.pth'
# ---------------------------------------------------------------------------
metainfo = dict(classes=classes)
model = dict(roi_head=dict(bbox_head=dict(num_classes=len(classes))))
train_dataloader = dict(dataset=dict(data_root=data_root, metainfo=metainfo))
val_dataloader = dict(dataset=dict(data_root=data_root, metainfo=metainfo))
test_dataloader = dict(dataset=dict(data_root=data_root, metainfo=metainfo))
val_evaluator = dict(ann_file=data_root + 'annotations/val.json')
test_evaluator = [dict(_base_.test_evaluator[0], ann_file=data_root + 'annotations/test.json'),
                  *_base_.test_evaluator[1:]]  # COCO AP, mAP@0.4, FROC

max_iters = 500
train_cfg = dict(max_iters=max_iters, val_interval=250)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=50),
    dict(type='MultiStepLR', begin=0, end=max_iters, by_epoch=False, milestones=[400], gamma=0.1),
]
optim_wrapper = dict(optimizer=dict(lr=5e-4))
default_hooks = dict(checkpoint=dict(interval=250, save_best='coco/bbox_mAP', rule='greater'))
