# coco_xray_detection.py at CPU size: 320 px, batch 2, one loader worker.
_base_ = './coco_xray_detection.py'

img_scale = (320, 320)
train_pipeline = [dict(t, scale=img_scale) if t['type'] == 'Resize' else t for t in _base_.train_pipeline]
test_pipeline = [dict(t, scale=img_scale) if t['type'] == 'Resize' else t for t in _base_.test_pipeline]
train_dataloader = dict(num_workers=1, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(num_workers=1, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
