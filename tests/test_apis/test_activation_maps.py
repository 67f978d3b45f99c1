"""Activation maps land where the features respond, in the image's own frame; panels."""
import numpy as np
import pytest
import torch

from anomed_mmdet.apis import init_xray_detector
from anomed_mmdet.apis.activation_maps import activation_map, make_panel, model_column
from anomed_mmdet.apis.inference import build_test_pipeline
from tests.inference_helpers import PLAIN_CFG, build_model, gray_image, save_checkpoint


@pytest.fixture(scope='module')
def model(tmp_path_factory):
    ckpt = save_checkpoint(build_model(PLAIN_CFG), tmp_path_factory.mktemp('plain') / 'plain.pth')
    return init_xray_detector(PLAIN_CFG, ckpt, device='cpu')


def test_map_follows_the_features_through_resize_and_padding(model, monkeypatch):
    """Features that respond only in the top-left quarter of the resized image (not the padding):
    the map is high there and low elsewhere, at the 150x200 input's own size."""
    img = np.repeat(gray_image(150, 200)[:, :, None], 3, axis=2)
    h, w = build_test_pipeline(model.cfg)(dict(img=img))['data_samples'].img_shape[:2]

    def fake_extract_feat(inputs):
        ph, pw = inputs.shape[-2:]
        assert ph % 32 == 0 and (ph, pw) != (h, w)  # padded beyond the resized image
        f = torch.zeros(1, 4, ph // 8, pw // 8)
        f[:, :, :h // 16, :w // 16] = 1.0
        return (f, f[:, :, ::2, ::2])

    monkeypatch.setattr(model, 'extract_feat', fake_extract_feat)
    heat = activation_map(model, img)
    assert heat.shape == (150, 200) and heat.dtype == np.float32
    assert 0.0 <= heat.min() and heat.max() <= 1.0
    assert heat[:60, :80].mean() > 0.9 and heat[90:, 120:].mean() < 0.05
    one = activation_map(model, img, levels=[1])
    assert one.shape == (150, 200) and not np.array_equal(one, heat)
    with pytest.raises(ValueError, match='no neck level'):
        activation_map(model, img, levels=[])


def test_panel_has_one_tile_per_model_and_the_image(model):
    img = np.repeat(gray_image(150, 200)[:, :, None], 3, axis=2)
    title, heat, dets = model_column(model, img, 'random weights', score_thr=0.0)
    assert heat.shape == (150, 200) and heat.max() > heat.min() and dets
    gt = [dict(bbox=[100, 50, 125, 70], score=1.0, label=0, **{'class': 'GT nodule'})]
    panel = make_panel(img, gt, [(title, heat, dets), ('again', heat, [])], gap=4)
    assert panel.shape[1] == 3 * 200 + 2 * 4 and panel.shape[0] > 150 and panel.dtype == np.uint8
    plain = make_panel(img, None, [(title, heat, dets)], gap=4)
    assert plain.shape[1] == 2 * 200 + 4
    assert not np.array_equal(panel[-150:, :200], plain[-150:, :200])  # the ground truth is drawn
