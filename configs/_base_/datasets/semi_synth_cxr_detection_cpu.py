# The semi-supervised synthetic chest X-ray data at CPU size (320 px), one loader worker.
# One input size (no scale jitter): on the CPU every new input shape makes oneDNN build new
# convolution kernels, which made jittered iterations up to 10x slower. The strong view keeps
# its geometric and photometric augmentation.
_base_ = './semi_synth_cxr_detection.py'

img_scale = (320, 320)
color_space = _base_.color_space
geometric = _base_.geometric
branch_field = _base_.branch_field
ssod_meta_keys = _base_.ssod_meta_keys

sup_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandAugment', aug_space=color_space, aug_num=1),
    dict(type='FilterAnnotations', min_gt_bbox_wh=(1e-2, 1e-2)),
    dict(type='MultiBranch', branch_field=branch_field, sup=dict(type='PackDetInputs')),
]
weak_pipeline = [
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs', meta_keys=ssod_meta_keys),
]
strong_pipeline = [
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomOrder', transforms=[
        dict(type='RandAugment', aug_space=color_space, aug_num=1),
        dict(type='RandAugment', aug_space=geometric, aug_num=1),
    ]),
    dict(type='RandomErasing', n_patches=(1, 5), ratio=(0, 0.2)),
    dict(type='FilterAnnotations', min_gt_bbox_wh=(1e-2, 1e-2)),
    dict(type='PackDetInputs', meta_keys=ssod_meta_keys),
]
unsup_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadEmptyAnnotations'),
    dict(type='MultiBranch', branch_field=branch_field,
         unsup_teacher=weak_pipeline, unsup_student=strong_pipeline),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]

labeled_dataset = _base_.labeled_dataset
labeled_dataset.pipeline = sup_pipeline
unlabeled_dataset = _base_.unlabeled_dataset
unlabeled_dataset.pipeline = unsup_pipeline
train_dataloader = dict(num_workers=1, dataset=dict(datasets=[labeled_dataset, unlabeled_dataset]))
val_dataloader = dict(num_workers=1, dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(num_workers=1, dataset=dict(pipeline=test_pipeline))
