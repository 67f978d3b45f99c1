# Supervised baseline on the labelled part only (annotations/train_labeled.json, 10% of train):
# the reference a semi-supervised detector must beat with the same labels.
_base_ = './faster-rcnn_r18-slim_fpn_cpu-1k_synth-cxr.py'

train_dataloader = dict(dataset=dict(ann_file='annotations/train_labeled.json'))
