# Semi-supervised VinDr-CXR (the paper's 5-class subset), COCO format as written by
# tools/dataset_converters/vindr_cxr.py (--preset paper5) and the semi split tool:
#   data/vindr_cxr/images/{train,test}/<image_id>.png  (json file_name: <split>/<image_id>.png)
#   data/vindr_cxr/annotations/{train,test}.json
#   data/vindr_cxr/annotations/train.{fold}@{percent}.json            (labelled part)
#   data/vindr_cxr/annotations/train.{fold}@{percent}-unlabeled.json  (the rest, no boxes)
# i.e. vindr_cxr.py RAW data/vindr_cxr --split train (and test) --preset paper5 --max-size 1024,
# then tools/misc/split_semi.py data/vindr_cxr/annotations/train.json --out-dir data/vindr_cxr/annotations.
# VinDr-CXR has no official validation split: validation (and the best-checkpoint rule) uses
# the test set here, as the paper reports test AP. To select checkpoints without touching the
# test set, point val_dataloader / val_evaluator at a held-out part of train.
# Pipelines, augmentation and sampler are those of the synthetic set, at 1024 px.
_base_ = './semi_synth_cxr_detection.py'

# CocoDataset with load-time checks of every image and box (docs/reliability.md)
dataset_type = 'CheckedCocoDataset'
data_root = 'data/vindr_cxr/'
ann_prefix = 'annotations/'
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
unsup_pipeline = [dict(t, unsup_teacher=weak_pipeline, unsup_student=strong_pipeline)
                  if t['type'] == 'MultiBranch' else t for t in _base_.unsup_pipeline]
test_pipeline = [dict(t, scale=img_scale) if t['type'] == 'Resize' else t for t in _base_.test_pipeline]

labeled_dataset = dict(
    type=dataset_type, data_root=data_root, metainfo=metainfo,
    ann_file=f'{ann_prefix}train.{fold}@{percent}.json', data_prefix=dict(img='images/'),
    filter_cfg=dict(filter_empty_gt=False), pipeline=sup_pipeline)
unlabeled_dataset = dict(
    type=dataset_type, data_root=data_root, metainfo=metainfo,
    ann_file=f'{ann_prefix}train.{fold}@{percent}-unlabeled.json', data_prefix=dict(img='images/'),
    filter_cfg=dict(filter_empty_gt=False), pipeline=unsup_pipeline)
test_dataset = dict(
    type=dataset_type, data_root=data_root, metainfo=metainfo, ann_file=f'{ann_prefix}test.json',
    data_prefix=dict(img='images/'), test_mode=True, pipeline=test_pipeline)
train_dataloader = dict(dataset=dict(datasets=[labeled_dataset, unlabeled_dataset]))
val_dataloader = dict(dataset=dict(_delete_=True, **test_dataset))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=f'{data_root}{ann_prefix}test.json')
# test: COCO AP, the VinBigData (Kaggle) metric -- PASCAL VOC mAP at IoU 0.4, mmdet's VOCMetric,
# as vinbigdata/mAP -- and FROC (from synth_cxr_detection.py; docs/evaluation.md)
test_evaluator = [dict(_base_.test_evaluator[0], ann_file=f'{data_root}{ann_prefix}test.json'),
                  *_base_.test_evaluator[1:]]
