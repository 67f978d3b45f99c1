# The semi-supervised synthetic chest X-ray data at CPU size (320 px), one loader worker: the
# pipelines of semi_synth_cxr_detection.py with one input size instead of scale jitter. On the
# CPU every new input shape makes oneDNN build new convolution kernels, which made jittered
# iterations up to 10x slower. The strong view keeps its geometric and photometric augmentation.
_base_ = './semi_synth_cxr_detection.py'

img_scale = (320, 320)
fixed = dict(type='Resize', scale=img_scale, keep_ratio=True)

sup_pipeline = [fixed if t['type'] == 'RandomResize' else t for t in _base_.sup_pipeline]
weak_pipeline = [fixed if t['type'] == 'RandomResize' else t for t in _base_.weak_pipeline]
strong_pipeline = [fixed if t['type'] == 'RandomResize' else t for t in _base_.strong_pipeline]
unsup_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadEmptyAnnotations'),
    dict(type='MultiBranch', branch_field=_base_.branch_field,
         unsup_teacher=weak_pipeline, unsup_student=strong_pipeline),
]
test_pipeline = [dict(t, scale=img_scale) if t['type'] == 'Resize' else t for t in _base_.test_pipeline]

labeled_dataset = _base_.labeled_dataset
labeled_dataset.pipeline = sup_pipeline
unlabeled_dataset = _base_.unlabeled_dataset
unlabeled_dataset.pipeline = unsup_pipeline
train_dataloader = dict(num_workers=1, dataset=dict(datasets=[labeled_dataset, unlabeled_dataset]))
val_dataloader = dict(num_workers=1, dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(num_workers=1, dataset=dict(pipeline=test_pipeline))
