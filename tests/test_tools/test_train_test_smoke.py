"""Two training iterations and a test run through mmengine's Runner on tiny images."""
import pytest
from mmengine.config import Config
from mmengine.runner import Runner

from tests.conftest import REPO

BASELINE = REPO / 'configs/faster_rcnn/faster-rcnn_r18-slim_fpn_cpu-1k_synth-cxr.py'


def tiny_config(root, work_dir) -> Config:
    """The supervised baseline pointed at a tiny data set, 2 iterations, no worker processes."""
    cfg = Config.fromfile(str(BASELINE))
    data_root = str(root) + '/'
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg[name]
        loader.update(num_workers=0, persistent_workers=False, batch_size=2)
        loader.dataset.data_root = data_root
    cfg.val_evaluator.ann_file = data_root + 'annotations/val.json'
    cfg.test_evaluator[0].ann_file = data_root + 'annotations/test.json'  # [CocoMetric, VOCMetric, FROCMetric]
    cfg.train_cfg.update(max_iters=2, val_interval=2)
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False, begin=0, end=2)]
    cfg.default_hooks.checkpoint.interval = 2
    cfg.default_hooks.logger.interval = 1
    cfg.visualizer.vis_backends = [dict(type='LocalVisBackend')]
    cfg.work_dir = str(work_dir)
    return cfg


def test_two_iterations_train_save_and_test_from_the_checkpoint(tiny_synth, tmp_path):
    root, _, _ = tiny_synth
    cfg = tiny_config(root, tmp_path / 'train')
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 2
    assert 'train/loss' in runner.message_hub.log_scalars
    assert list((tmp_path / 'train').glob('*/*.log'))
    ckpt = tmp_path / 'train' / 'iter_2.pth'
    assert ckpt.is_file()
    assert (tmp_path / 'train' / 'last_checkpoint').read_text().strip().endswith('iter_2.pth')

    # a fresh runner loads the checkpoint (weights_only load under torch >= 2.6) and evaluates
    test_cfg = tiny_config(root, tmp_path / 'test')
    test_cfg.load_from = str(ckpt)
    metrics = Runner.from_cfg(test_cfg).test()
    for key in ('coco/bbox_mAP', 'coco/bbox_mAP_50', 'coco/bbox_mAP_75', 'coco/bbox_mAP_s',
                'vinbigdata/mAP', 'vinbigdata/AP40'):  # VOC mAP at IoU 0.4
        assert key in metrics, key
        assert metrics[key] == -1.0 or 0.0 <= metrics[key] <= 1.0  # -1: no box of that size


@pytest.mark.slow
def test_demo_config_learns(tmp_path):
    """The `make demo` budget reaches test AP50 >= 0.30 (about 10 minutes on 2 cores)."""
    from anomed_mmdet.datasets.synthetic import SynthCXRConfig, generate_dataset
    root = tmp_path / 'data'
    generate_dataset(str(root), SynthCXRConfig(num_images=1000), workers=2)
    cfg = Config.fromfile(str(BASELINE))
    data_root = str(root) + '/'
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[name].dataset.data_root = data_root
    cfg.val_evaluator.ann_file = data_root + 'annotations/val.json'
    cfg.test_evaluator[0].ann_file = data_root + 'annotations/test.json'  # [CocoMetric, VOCMetric, FROCMetric]
    cfg.work_dir = str(tmp_path / 'work')
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.test()['coco/bbox_mAP_50'] >= 0.30
