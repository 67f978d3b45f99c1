# Semi-supervised VinDr-CXR (the paper's 5-class subset), COCO format as written by the VinDr
# converter and the semi split tool (see the real-data issue):
#   data/vindr_cxr/images/{train,test}/*.png
#   data/vindr_cxr/annotations/train.{fold}@{percent}.json, train.{fold}@{percent}-unlabeled.json,
#   val.json, test.json
# Pipelines, augmentation and sampler are those of the synthetic set, at 1024 px.
_base_ = './semi_synth_cxr_detection.py'

dataset_type = 'CocoDataset'
data_root = 'data/vindr_cxr/'
metainfo = dict(classes=('Aortic enlargement', 'Calcification', 'Cardiomegaly', 'Pulmonary fibrosis',
                         'Nodule/Mass'))
fold, percent = 1, 10
img_scale = (1024, 1024)
scale_jitter = [(896, 896), (1152, 1152)]

sup_pipeline = [dict(t, scale=scale_jitter) if t['type'] == 'RandomResize' else t
                for t in _base_.sup_pipeline]
weak_pipeline = [dict(t, scale=scale_jitter) if t['type'] == 'RandomResize' else t
                 for t in _base_.weak_pipeline]
strong_pipeline = [dict(t, scale=scale_jitter) if t['type'] == 'RandomResize' else t
                   for t in _base_.strong_pipeline]
unsup_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadEmptyAnnotations'),
    dict(type='MultiBranch', branch_field=_base_.branch_field,
         unsup_teacher=weak_pipeline, unsup_student=strong_pipeline),
]
test_pipeline = [dict(t, scale=img_scale) if t['type'] == 'Resize' else t for t in _base_.test_pipeline]

labeled_dataset = dict(
    type=dataset_type, data_root=data_root, metainfo=metainfo,
    ann_file=f'annotations/train.{fold}@{percent}.json', data_prefix=dict(img='images/train/'),
    filter_cfg=dict(filter_empty_gt=False), pipeline=sup_pipeline)
unlabeled_dataset = dict(
    type=dataset_type, data_root=data_root, metainfo=metainfo,
    ann_file=f'annotations/train.{fold}@{percent}-unlabeled.json', data_prefix=dict(img='images/train/'),
    filter_cfg=dict(filter_empty_gt=False), pipeline=unsup_pipeline)
train_dataloader = dict(dataset=dict(datasets=[labeled_dataset, unlabeled_dataset]))
val_dataloader = dict(dataset=dict(
    type=dataset_type, data_root=data_root, metainfo=metainfo, ann_file='annotations/val.json',
    data_prefix=dict(img='images/train/'), pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(
    type=dataset_type, data_root=data_root, metainfo=metainfo, ann_file='annotations/test.json',
    data_prefix=dict(img='images/test/'), pipeline=test_pipeline))
val_evaluator = dict(ann_file=data_root + 'annotations/val.json')
test_evaluator = dict(ann_file=data_root + 'annotations/test.json')
