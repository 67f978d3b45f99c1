# RetinaNet with SIB before its FPN (SIB composes into any detector), CPU sized, synthetic CXR.
_base_ = ['../_base_/models/retinanet_r18-slim_sib-fpn_scratch.py', './_base_/synth-cxr_cpu-1k.py']
