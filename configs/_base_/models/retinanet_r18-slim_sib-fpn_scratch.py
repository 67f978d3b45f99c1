# RetinaNet, CPU sized (./retinanet_r18-slim_fpn_scratch.py), neck = SIB + the same FPN. FPN
# starts at C3 (start_level=1), so SIB enhances only the maps FPN uses (enhance_indices=(1, 2, 3)).
_base_ = './retinanet_r18-slim_fpn_scratch.py'

model = dict(
    neck=[
        _base_.slim_sib_c3,
        dict(type='FPN', in_channels=_base_.slim_channels, out_channels=64, start_level=1,
             add_extra_convs='on_input', num_outs=5),
    ])
