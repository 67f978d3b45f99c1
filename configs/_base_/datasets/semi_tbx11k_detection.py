# Semi-supervised TBX11K (tuberculosis: 2 box classes), 512 px radiographs, COCO format:
#   data/tbx11k/imgs/{health,sick,tb,...}/*.png   (file_name in the json: relative to imgs/)
#   data/tbx11k/annotations/coco/{train,val}.json
#   data/tbx11k/annotations/coco/train.{fold}@{percent}.json, train.{fold}@{percent}-unlabeled.json
# The official test labels are not public: validation and test use val.json.
# tools/dataset_converters/tbx11k.py names its json files after the lists:
#   python tools/dataset_converters/tbx11k.py data/tbx11k data/tbx11k/annotations/coco \
#       --lists TBX11K_train TBX11K_val
#   then rename TBX11K_train.json -> train.json, TBX11K_val.json -> val.json, and split:
#   python tools/misc/split_semi.py data/tbx11k/annotations/coco/train.json \
#       --out-dir data/tbx11k/annotations/coco
# Pipelines, augmentation (448-576 px jitter) and sampler are those of the synthetic set.
_base_ = './semi_synth_cxr_detection.py'

# CocoDataset with load-time checks of every image and box (docs/reliability.md)
dataset_type = 'CheckedCocoDataset'
data_root = 'data/tbx11k/'
ann_prefix = 'annotations/coco/'
metainfo = dict(classes=('ActiveTuberculosis', 'ObsoletePulmonaryTuberculosis'))
fold, percent = 1, 10

labeled_dataset = dict(
    _base_.labeled_dataset, type=dataset_type, data_root=data_root, metainfo=metainfo,
    ann_file=f'{ann_prefix}train.{fold}@{percent}.json', data_prefix=dict(img='imgs/'))
unlabeled_dataset = dict(
    _base_.unlabeled_dataset, type=dataset_type, data_root=data_root, metainfo=metainfo,
    ann_file=f'{ann_prefix}train.{fold}@{percent}-unlabeled.json', data_prefix=dict(img='imgs/'))
test_dataset = dict(
    type=dataset_type, data_root=data_root, metainfo=metainfo, ann_file=f'{ann_prefix}val.json',
    data_prefix=dict(img='imgs/'), test_mode=True, pipeline=_base_.test_pipeline)
train_dataloader = dict(dataset=dict(datasets=[labeled_dataset, unlabeled_dataset]))
val_dataloader = dict(dataset=dict(_delete_=True, **test_dataset))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=f'{data_root}{ann_prefix}val.json')
test_evaluator = [dict(_base_.test_evaluator[0], ann_file=f'{data_root}{ann_prefix}val.json'),
                  *_base_.test_evaluator[1:]]  # COCO AP, mAP@0.4, FROC
