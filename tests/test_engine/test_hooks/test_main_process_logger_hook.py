"""MainProcessLoggerHook: the test metrics JSON is written by the main process, not by the others."""
import json
from types import SimpleNamespace
from unittest import mock

import pytest

from anomed_mmdet.engine.hooks import MainProcessLoggerHook
from anomed_mmdet.engine.hooks import main_process_logger_hook as module


def fake_runner(tmp_path):
    log_processor = mock.Mock()
    log_processor.get_log_after_epoch.return_value = ({'coco/bbox_mAP': 0.25, 'time': 0.1}, 'line')
    return SimpleNamespace(log_processor=log_processor, logger=mock.Mock(), log_dir=str(tmp_path),
                           test_dataloader=[0, 1, 2], timestamp='20261204_000000')


@pytest.mark.parametrize('main', [True, False])
def test_after_test_epoch_writes_on_main_process_only(tmp_path, monkeypatch, main):
    monkeypatch.setattr(module, 'is_main_process', lambda: main)
    runner = fake_runner(tmp_path)
    hook = MainProcessLoggerHook()
    hook.json_log_path = f'{runner.timestamp}.json'  # what before_run sets
    hook.after_test_epoch(runner, {'coco/bbox_mAP': 0.25})
    out = tmp_path / f'{runner.timestamp}.json'
    if main:
        assert json.loads(out.read_text()) == {'coco/bbox_mAP': 0.25, 'time': 0.1}
        runner.logger.info.assert_called_once_with('line')
    else:
        assert not out.exists()
        runner.log_processor.get_log_after_epoch.assert_not_called()


def test_default_runtime_uses_it():
    from mmengine.config import Config

    from tests.conftest import REPO
    cfg = Config.fromfile(str(REPO / 'configs/_base_/default_runtime.py'))
    assert cfg.default_hooks.logger.type == 'MainProcessLoggerHook'
