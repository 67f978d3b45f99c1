"""`--resume` checks the checkpoint first and names a damaged one (no silent fall-back)."""
import importlib.util
import sys

import pytest

from anomed_mmdet.utils.resume import CheckpointError, resolve_resume_checkpoint, verify_checkpoint
from tests.conftest import REPO
from tests.test_engine.toy import toy_runner


@pytest.fixture(scope='module')
def work_dir(tmp_path_factory):
    """A work dir with iter_2.pth and iter_4.pth (real mmengine checkpoints)."""
    path = tmp_path_factory.mktemp('resume_work')
    toy_runner(path, max_iters=4).train()
    return path


def damaged_copy(work_dir, tmp_path, how: str):
    """Copy the work dir; damage its latest checkpoint (iter_4.pth)."""
    for name in ('iter_2.pth', 'iter_4.pth'):
        (tmp_path / name).write_bytes((work_dir / name).read_bytes())
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_4.pth'))
    latest = tmp_path / 'iter_4.pth'
    data = bytearray(latest.read_bytes())
    if how == 'truncated':
        data = data[:len(data) // 2]
    elif how == 'flipped':  # torch.load would read this one without complaint
        data[len(data) // 3] ^= 0xFF
    elif how == 'empty':
        data = b''
    latest.write_bytes(bytes(data))
    return tmp_path


def test_intact_latest_checkpoint_is_used(work_dir):
    assert resolve_resume_checkpoint(str(work_dir)) == str(work_dir / 'iter_4.pth')


@pytest.mark.parametrize('how', ['truncated', 'flipped', 'empty'])
def test_damaged_latest_checkpoint_is_named_with_the_intact_alternatives(work_dir, tmp_path, how):
    work = damaged_copy(work_dir, tmp_path, how)
    with pytest.raises(CheckpointError) as err:
        resolve_resume_checkpoint(str(work))
    msg = str(err.value)
    assert str(work / 'iter_4.pth') in msg and '--resume' in msg
    assert str(work / 'iter_2.pth') in msg.split('intact earlier checkpoints')[1]


def test_missing_or_empty_pointer(work_dir, tmp_path):
    assert resolve_resume_checkpoint(str(tmp_path)) is None  # a fresh work dir: start from scratch
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_9.pth'))
    with pytest.raises(CheckpointError, match='iter_9.pth does not exist'):
        resolve_resume_checkpoint(str(tmp_path))
    (tmp_path / 'last_checkpoint').write_text('')
    with pytest.raises(CheckpointError, match='is empty'):
        resolve_resume_checkpoint(str(tmp_path))


def test_explicit_checkpoint_is_checked_too(work_dir, tmp_path):
    work = damaged_copy(work_dir, tmp_path, 'flipped')
    assert resolve_resume_checkpoint(str(work), str(work / 'iter_2.pth')) == str(work / 'iter_2.pth')
    with pytest.raises(CheckpointError, match='CRC mismatch'):
        verify_checkpoint(str(work / 'iter_4.pth'))


def test_train_tool_exits_with_the_message(work_dir, tmp_path, monkeypatch):
    work = damaged_copy(work_dir, tmp_path, 'truncated')
    spec = importlib.util.spec_from_file_location('anomed_train_tool', REPO / 'tools/train.py')
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    config = REPO / 'configs/faster_rcnn/faster-rcnn_r18-slim_fpn_cpu-1k_synth-cxr.py'
    monkeypatch.setattr(sys, 'argv', ['train.py', str(config), '--work-dir', str(work), '--resume'])
    with pytest.raises(SystemExit) as err:
        train.main()
    assert 'cannot resume' in str(err.value.code) and str(work / 'iter_4.pth') in str(err.value.code)
