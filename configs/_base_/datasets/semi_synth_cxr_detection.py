# Semi-supervised detection on the synthetic chest X-rays: labelled + unlabelled training images
# through mmdet's MultiBranch pipelines (sup / unsup_teacher / unsup_student). A semi-supervised
# detector config (MeanTeacher, SoftTeacher, AnoMed) inherits this and only adds a model.
_base_ = './synth_cxr_detection.py'  # val / test data and evaluators

dataset_type = 'SynthCXRDataset'
data_root = 'data/synth_cxr/'
scale_jitter = [(448, 448), (576, 576)]
backend_args = None

# Strong-view augmentation sized for grey radiographs and small lesions (mmdet's defaults are
# for colour photographs: Posterize down to 0 bits, contrast / brightness / sharpness down to
# 0.1, shear to 30 degrees, erased patches up to 20% of the side would remove whole nodules
# while their pseudo boxes stay). Sized by reasoning, not tuned on val (docs/benchmark.md).
color_space = [
    [dict(type='AutoContrast')],
    [dict(type='Equalize')],
    [dict(type='Sharpness', min_mag=0.5, max_mag=1.5)],
    [dict(type='Posterize', min_mag=5.0, max_mag=8.0)],  # keeps 5-8 bits
    [dict(type='Contrast', min_mag=0.6, max_mag=1.4)],
    [dict(type='Brightness', min_mag=0.6, max_mag=1.4)],
]
geometric = [
    [dict(type='Rotate', max_mag=10.0)],
    [dict(type='ShearX', max_mag=10.0)],
    [dict(type='ShearY', max_mag=10.0)],
    [dict(type='TranslateX', max_mag=0.1)],
    [dict(type='TranslateY', max_mag=0.1)],
]
branch_field = ['sup', 'unsup_teacher', 'unsup_student']
ssod_meta_keys = ('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'flip',
                  'flip_direction', 'homography_matrix')

# labelled images -> student, supervised losses: the supervised configs' train pipeline, so a
# semi-supervised row and the supervised row it is compared with see the labelled images alike
sup_pipeline = [
    *_base_.train_pipeline[:-1],
    dict(type='MultiBranch', branch_field=branch_field, sup=dict(type='PackDetInputs')),
]
# unlabelled images, weak view -> teacher, pseudo labels
weak_pipeline = [
    dict(type='RandomResize', scale=scale_jitter, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs', meta_keys=ssod_meta_keys),
]
# unlabelled images, strong view -> student, unsupervised losses
strong_pipeline = [
    dict(type='RandomResize', scale=scale_jitter, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomOrder', transforms=[
        dict(type='RandAugment', aug_space=color_space, aug_num=1),
        dict(type='RandAugment', aug_space=geometric, aug_num=1),
    ]),
    dict(type='RandomErasing', n_patches=(1, 3), ratio=(0, 0.03)),
    dict(type='FilterAnnotations', min_gt_bbox_wh=(1e-2, 1e-2)),
    dict(type='PackDetInputs', meta_keys=ssod_meta_keys),
]
unsup_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadEmptyAnnotations'),
    dict(type='MultiBranch', branch_field=branch_field,
         unsup_teacher=weak_pipeline, unsup_student=strong_pipeline),
]
labeled_dataset = dict(
    type=dataset_type,
    data_root=data_root,
    ann_file='annotations/train_labeled.json',
    data_prefix=dict(img='images/'),
    filter_cfg=dict(filter_empty_gt=False),
    pipeline=sup_pipeline,
    backend_args=backend_args)
unlabeled_dataset = dict(labeled_dataset, ann_file='annotations/train_unlabeled.json',
                         pipeline=unsup_pipeline)

batch_size = 5
train_dataloader = dict(
    _delete_=True,
    batch_size=batch_size,
    num_workers=2,
    persistent_workers=True,
    # MultiSourceSampler, not GroupMultiSourceSampler: the latter hangs when one source lacks
    # an aspect-ratio group that the other has. Infinite: use IterBasedTrainLoop.
    sampler=dict(type='MultiSourceSampler', batch_size=batch_size, source_ratio=[1, 4]),
    dataset=dict(type='ConcatDataset', datasets=[labeled_dataset, unlabeled_dataset]))
# The loader of a supervised baseline on the labelled part alone (the supervised real-data
# sets, e.g. ./vindr_cxr_detection.py): add _delete_=True and the dataset.
sup_train_dataloader = dict(
    batch_size=2,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True))
