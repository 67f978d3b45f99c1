# Supervised VinDr-CXR, 14 classes: the labelled part of the semi-supervised split
# (train.{fold}@{percent}.json) with the labelled-branch pipeline of semi_vindr_cxr14_detection.py,
# so that a supervised baseline sees exactly the labels and augmentation AnoMed sees. For
# every label, override the loader's ann_file with the full train json.
# Same data layout, validation and test sets as semi_vindr_cxr14_detection.py.
_base_ = './semi_vindr_cxr14_detection.py'

train_pipeline = [dict(type='PackDetInputs') if t['type'] == 'MultiBranch' else t
                  for t in _base_.sup_pipeline]
train_dataloader = dict(_base_.sup_train_dataloader, _delete_=True,
                        dataset=dict(_base_.labeled_dataset, pipeline=train_pipeline))
