# AnoMed at paper scale, without data: Faster R-CNN, ImageNet R-50 (torchvision weights through
# init_cfg, downloaded on first use), neck = SIB + FA, trained by the PLO for 40k iterations on
# 8 GPUs x 5 images (1 labelled + 4 unlabelled). A data set config completes it, e.g.
#   _base_ = ['../_base_/semi/anomed_faster-rcnn_r50_sib-fa_40k.py',
#             '../_base_/datasets/semi_vindr_cxr_detection.py']
#   model = dict(detector=dict(roi_head=dict(bbox_head=dict(num_classes=5))))
_base_ = [
    '../models/faster-rcnn_r50_sib-fa.py',
    '../schedules/schedule_iter.py',
    './teacher_student_runtime.py',
    './anomed_plo.py',
]

detector = _base_.model
detector.train_cfg.rpn.assigner.update(_base_.hesitant_assigner)
detector.train_cfg.rcnn.assigner.update(_base_.hesitant_assigner)
detector.data_preprocessor.pad_size_divisor = 32

model = dict(
    _delete_=True,
    type='AnoMed',
    detector=detector,
    data_preprocessor=dict(type='MultiBranchDataPreprocessor', data_preprocessor=detector.data_preprocessor),
    plo=_base_.plo,
    semi_train_cfg=dict(_base_.semi_train_cfg, burn_in_iters=2000),
    semi_test_cfg=_base_.semi_test_cfg)
del detector  # children set model.detector (a copy left here would show num_classes=80)

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
