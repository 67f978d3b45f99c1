# `make demo`, step 2: AnoMed (PLO, SIB + FA) continued from the step-1 checkpoint
# (--cfg-options load_from=...) on labelled + unlabelled images, 300 iterations (~6 minutes on
# 2 cores), with the fine-tuning stage every method shares (_base_/semi/finetune_cpu-0.3k.py:
# lr 2e-4, EMA momentum 0.01, BN statistics frozen at the trunk's). The unsupervised weight is
# the PLO default (chosen on val, docs/plo.md). The FPN variant of the same stage with the
# SIB + FA neck of ./anomed_faster-rcnn_r18-slim_sib-fa_cpu-1k_semi-0.1-synth-cxr.py.
_base_ = ['./anomed_faster-rcnn_r18-slim_fpn_cpu-0.3k-ft_semi-0.1-synth-cxr.py']

model = dict(detector=dict(neck=_base_.slim_sib_fa_neck))  # _base_/models/r18-slim_parts.py
