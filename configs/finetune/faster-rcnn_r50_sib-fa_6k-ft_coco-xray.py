# Fine-tune the paper-scale AnoMed detector (R-50, SIB + FA) on another X-ray domain in COCO
# format, starting from an AnoMed checkpoint's teacher (docs/inference.md, "Fine-tuning"):
#   python tools/model_converters/extract_teacher.py \
#       configs/anomed/anomed_faster-rcnn_r50_sib-fa_40k_semi-0.1-vindr-cxr.py \
#       work_dirs/anomed_vindr/iter_40000.pth work_dirs/anomed_vindr_teacher
#   bash tools/dist_train.sh configs/finetune/faster-rcnn_r50_sib-fa_6k-ft_coco-xray.py 8 \
#       --cfg-options load_from=work_dirs/anomed_vindr_teacher/anomed_faster-rcnn_r50_sib-fa_40k_semi-0.1-vindr-cxr_teacher.pth
# Every weight but the box head's fc_cls / fc_reg (re-initialised when the class count
# differs) comes from the checkpoint, so the backbone's ImageNet init_cfg is off: nothing is
# downloaded. 6k iterations on 8 GPUs x 2 images at 1024 px, SGD 0.01 (half the from-scratch
# rate). Untuned: a starting point.
_base_ = [
    '../_base_/models/faster-rcnn_r50_sib-fa.py',
    '../_base_/datasets/coco_xray_detection.py',
    '../_base_/schedules/schedule_iter.py',
    '../_base_/default_runtime.py',
]

# ---- your data: edit here (or override these keys in a child config) ----
data_root = 'data/coco_xray/'
classes = ('fracture', )
load_from = 'work_dirs/anomed_vindr_teacher/anomed_faster-rcnn_r50_sib-fa_40k_semi-0.1-vindr-cxr_teacher.pth'
# ---------------------------------------------------------------------------
metainfo = dict(classes=classes)
model = dict(backbone=dict(init_cfg=None), roi_head=dict(bbox_head=dict(num_classes=len(classes))))
train_dataloader = dict(dataset=dict(data_root=data_root, metainfo=metainfo))
val_dataloader = dict(dataset=dict(data_root=data_root, metainfo=metainfo))
test_dataloader = dict(dataset=dict(data_root=data_root, metainfo=metainfo))
val_evaluator = dict(ann_file=data_root + 'annotations/val.json')
test_evaluator = [dict(_base_.test_evaluator[0], ann_file=data_root + 'annotations/test.json'),
                  *_base_.test_evaluator[1:]]  # COCO AP, mAP@0.4, FROC

max_iters = 6000
train_cfg = dict(max_iters=max_iters, val_interval=1000)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(type='MultiStepLR', begin=0, end=max_iters, by_epoch=False, milestones=[4500, 5500], gamma=0.1),
]
optim_wrapper = dict(optimizer=dict(lr=0.01), clip_grad=dict(max_norm=35, norm_type=2))
default_hooks = dict(checkpoint=dict(interval=1000, save_best='coco/bbox_mAP', rule='greater'))
