# Supervised detection on the synthetic chest X-rays (tools/misc/gen_synth_cxr.py).
dataset_type = 'SynthCXRDataset'
data_root = 'data/synth_cxr/'
img_scale = (512, 512)
backend_args = None

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]

train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        # all training labels; the semi-supervised configs use train_labeled / train_unlabeled
        ann_file='annotations/train.json',
        data_prefix=dict(img='images/'),
        filter_cfg=dict(filter_empty_gt=False),  # normal images are useful negatives
        pipeline=train_pipeline,
        backend_args=backend_args))
val_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/val.json',
        data_prefix=dict(img='images/'),
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args))
test_dataloader = dict(val_dataloader,
                       dataset=dict(val_dataloader['dataset'], ann_file='annotations/test.json'))

val_evaluator = dict(
    type='CocoMetric', ann_file=data_root + 'annotations/val.json', metric='bbox',
    classwise=True, format_only=False, backend_args=backend_args)
# test: COCO AP; the VinBigData (Kaggle) metric, PASCAL VOC mAP at IoU 0.4 ('area' mode, mmdet's
# VOCMetric, keys vinbigdata/mAP and vinbigdata/AP40); lesion-level FROC (sensitivity at 1/8..8
# false positives per image, CPM; anomed_mmdet.evaluation.FROCMetric). docs/evaluation.md.
# A child config that moves the data replaces the list:
# [dict(_base_.test_evaluator[0], ann_file=...), *_base_.test_evaluator[1:]]
test_evaluator = [
    dict(type='CocoMetric', ann_file=data_root + 'annotations/test.json', metric='bbox',
         classwise=True, format_only=False, backend_args=backend_args),
    dict(type='VOCMetric', iou_thrs=[0.4], eval_mode='area', prefix='vinbigdata'),
    dict(type='FROCMetric'),
]
