# Any X-ray detection set in COCO format (the out-of-distribution fine-tuning recipe):
#   <data_root>/images/...            (file_name in the json: relative to images/)
#   <data_root>/annotations/{train,val,test}.json
# Configs using it set data_root, metainfo (class names) and num_classes; see
# configs/finetune/ and docs/inference.md. 1024 px, flip; no colour augmentation.
_base_ = './synth_cxr_detection.py'

# CocoDataset with load-time checks of every image and box (docs/reliability.md)
dataset_type = 'CheckedCocoDataset'
data_root = 'data/coco_xray/'
img_scale = (1024, 1024)
backend_args = None

train_pipeline = [dict(t, scale=img_scale) if t['type'] == 'Resize' else t for t in _base_.train_pipeline]
test_pipeline = [dict(t, scale=img_scale) if t['type'] == 'Resize' else t for t in _base_.test_pipeline]
train_dataloader = dict(batch_size=2, dataset=dict(
    type=dataset_type, data_root=data_root, ann_file='annotations/train.json',
    data_prefix=dict(img='images/'), pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(
    type=dataset_type, data_root=data_root, ann_file='annotations/val.json',
    data_prefix=dict(img='images/'), pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(
    type=dataset_type, data_root=data_root, ann_file='annotations/test.json',
    data_prefix=dict(img='images/'), pipeline=test_pipeline))
val_evaluator = dict(ann_file=data_root + 'annotations/val.json')
test_evaluator = [dict(_base_.test_evaluator[0], ann_file=data_root + 'annotations/test.json'),
                  *_base_.test_evaluator[1:]]  # COCO AP, mAP@0.4, FROC
