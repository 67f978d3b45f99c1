# Semi-supervised VinDr-CXR with the 14 Kaggle (VinBigData) classes. Same images as the
# 5-class set; annotations converted with --preset all14 into annotations/all14/:
#   python tools/dataset_converters/vindr_cxr.py RAW data/vindr_cxr --split train --preset all14 \
#       --out-json data/vindr_cxr/annotations/all14/train.json
#   (and --split test), then
#   python tools/misc/split_semi.py data/vindr_cxr/annotations/all14/train.json \
#       --out-dir data/vindr_cxr/annotations/all14
#   -> annotations/all14/train.{fold}@{percent}.json, annotations/all14/train.{fold}@{percent}-unlabeled.json
_base_ = './semi_vindr_cxr_detection.py'

data_root = 'data/vindr_cxr/'
ann_prefix = 'annotations/all14/'
metainfo = dict(classes=(
    'Aortic enlargement', 'Atelectasis', 'Calcification', 'Cardiomegaly', 'Consolidation', 'ILD',
    'Infiltration', 'Lung Opacity', 'Nodule/Mass', 'Other lesion', 'Pleural effusion',
    'Pleural thickening', 'Pneumothorax', 'Pulmonary fibrosis'))
fold, percent = 1, 10

labeled_dataset = dict(_base_.labeled_dataset, data_root=data_root, metainfo=metainfo,
                       ann_file=f'{ann_prefix}train.{fold}@{percent}.json')
unlabeled_dataset = dict(_base_.unlabeled_dataset, data_root=data_root, metainfo=metainfo,
                         ann_file=f'{ann_prefix}train.{fold}@{percent}-unlabeled.json')
test_dataset = dict(_base_.test_dataset, data_root=data_root, metainfo=metainfo,
                    ann_file=f'{ann_prefix}test.json')
train_dataloader = dict(dataset=dict(datasets=[labeled_dataset, unlabeled_dataset]))
val_dataloader = dict(dataset=dict(_delete_=True, **test_dataset))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=f'{data_root}{ann_prefix}test.json')
test_evaluator = [dict(_base_.test_evaluator[0], ann_file=f'{data_root}{ann_prefix}test.json'),
                  *_base_.test_evaluator[1:]]  # COCO AP, VinBigData mAP@0.4, FROC
