# The semi-supervised synthetic chest X-ray data at CPU size (320 px), one loader worker: the
# pipelines of semi_synth_cxr_detection.py with one input size instead of scale jitter. On the
# CPU every new input shape makes oneDNN build new convolution kernels, which makes jittered
# iterations much slower. The strong view keeps its geometric and photometric augmentation.
_base_ = './semi_synth_cxr_detection.py'

img_scale = (320, 320)
sup_pipeline = [dict(t, type='Resize', scale=img_scale) if t['type'] in ('Resize', 'RandomResize') else t
                for t in _base_.sup_pipeline]
weak_pipeline = [dict(t, type='Resize', scale=img_scale) if t['type'] == 'RandomResize' else t
                 for t in _base_.weak_pipeline]
strong_pipeline = [dict(t, type='Resize', scale=img_scale) if t['type'] == 'RandomResize' else t
                   for t in _base_.strong_pipeline]
unsup_pipeline = [dict(t, unsup_teacher=weak_pipeline, unsup_student=strong_pipeline)
                  if t['type'] == 'MultiBranch' else t for t in _base_.unsup_pipeline]
test_pipeline = [dict(t, scale=img_scale) if t['type'] == 'Resize' else t for t in _base_.test_pipeline]

labeled_dataset = dict(_base_.labeled_dataset, pipeline=sup_pipeline)
unlabeled_dataset = dict(_base_.unlabeled_dataset, pipeline=unsup_pipeline)
train_dataloader = dict(num_workers=1, dataset=dict(datasets=[labeled_dataset, unlabeled_dataset]))
val_dataloader = dict(num_workers=1, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
