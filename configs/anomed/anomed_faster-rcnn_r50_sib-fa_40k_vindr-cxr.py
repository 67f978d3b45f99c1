# AnoMed at paper scale on VinDr-CXR (5 classes, 10% labels): Faster R-CNN, ImageNet R-50
# (torchvision weights through init_cfg, downloaded on first use), neck = SIB + FA, 1024 px,
# 40k iterations on 8 GPUs x 5 images (1 labelled + 4 unlabelled):
#   bash tools/dist_train.sh configs/anomed/anomed_faster-rcnn_r50_sib-fa_40k_vindr-cxr.py 8
# Short name: configs/anomed_vindr.py.
_base_ = [
    '../_base_/models/faster-rcnn_r50_sib-fa.py',
    '../_base_/datasets/semi_vindr_cxr_detection.py',
    '../_base_/schedules/schedule_iter.py',
    '../_base_/semi/teacher_student_runtime.py',
    '../_base_/semi/anomed_plo.py',
]

detector = _base_.model
detector.roi_head.bbox_head.num_classes = 5
detector.train_cfg.rpn.assigner.ignore_iof_thr = 0.5
detector.train_cfg.rcnn.assigner.ignore_iof_thr = 0.5
detector.data_preprocessor.pad_size_divisor = 32

model = dict(
    _delete_=True,
    type='AnoMed',
    detector=detector,
    data_preprocessor=dict(type='MultiBranchDataPreprocessor', data_preprocessor=detector.data_preprocessor),
    plo=_base_.plo,
    semi_train_cfg=dict(_base_.semi_train_cfg, burn_in_iters=2000),
    semi_test_cfg=_base_.semi_test_cfg)

max_iters = 40000
train_cfg = dict(max_iters=max_iters, val_interval=4000)
val_cfg = dict(type='TeacherStudentValLoop')
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=1000),
    dict(type='MultiStepLR', begin=0, end=max_iters, by_epoch=False, milestones=[30000, 36000], gamma=0.1),
]
# 8 GPUs x 5 images; mmdet's SGD 0.02 for batch 16 scaled to 40
optim_wrapper = dict(optimizer=dict(lr=0.05), clip_grad=dict(max_norm=35, norm_type=2))
auto_scale_lr = dict(enable=False, base_batch_size=40)
default_hooks = dict(checkpoint=dict(interval=4000))
