# The AnoMed detector on the CPU: Faster R-CNN (slim R-18) with neck = SIB + FA, trained by the
# PLO on the synthetic chest X-rays (10% labels, 320 px, 1k iterations, batch 1 + 4).
_base_ = ['./anomed_faster-rcnn_r18-slim_fpn_cpu-1k_synth-cxr.py']

model = dict(detector=dict(neck=[
    dict(type='SIB', in_channels=[32, 64, 128, 256], mid_channels=32),
    dict(type='FA', in_channels=[32, 64, 128, 256], out_channels=64, num_outs=5),
]))
