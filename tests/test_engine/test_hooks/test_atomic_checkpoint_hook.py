"""A crash while a checkpoint is written leaves the previous checkpoint and last_checkpoint intact."""
import builtins

import pytest
import torch

from anomed_mmdet.utils import atomic_io
from anomed_mmdet.utils.resume import resolve_resume_checkpoint, verify_checkpoint
from tests.test_engine.toy import toy_runner


class Crash(OSError):
    pass


def crash_on_write(monkeypatch, nth: int, fraction: float = 0.5):
    """The ``nth`` atomic write (1-based) writes ``fraction`` of its bytes, then raises."""
    calls = {'n': 0}

    class HalfWriter:
        def __init__(self, f):
            self.f = f

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

        def write(self, data):
            self.f.write(data[:int(len(data) * fraction)])
            self.f.flush()
            raise Crash('simulated crash in the middle of a write')

        def __getattr__(self, name):
            return getattr(self.f, name)

    def fake_open(path, mode='r', *args, **kwargs):
        f = builtins.open(path, mode, *args, **kwargs)
        if str(path).endswith(atomic_io.PARTIAL_SUFFIX):
            calls['n'] += 1
            if calls['n'] == nth:
                return HalfWriter(f)
        return f

    monkeypatch.setattr(atomic_io, 'open', fake_open, raising=False)
    return calls


def ckpt_hook(max_keep: int = 2) -> dict:
    return dict(type='AtomicCheckpointHook', by_epoch=False, interval=2, max_keep_ckpts=max_keep)


def test_checkpoints_and_last_checkpoint_are_written(tmp_path):
    runner = toy_runner(tmp_path, max_iters=6, checkpoint=ckpt_hook(max_keep=2))
    runner.train()
    assert sorted(p.name for p in tmp_path.glob('*.pth')) == ['iter_4.pth', 'iter_6.pth']
    assert (tmp_path / 'last_checkpoint').read_text() == str(tmp_path / 'iter_6.pth')
    assert not list(tmp_path.glob('.*.partial'))
    verify_checkpoint(str(tmp_path / 'iter_6.pth'))


@pytest.mark.parametrize('max_keep', [1, 2])
def test_crash_while_writing_the_pth_keeps_the_previous_checkpoint(tmp_path, monkeypatch, max_keep):
    # writes: iter_2.pth, last_checkpoint, iter_4.pth, last_checkpoint, iter_6.pth <- crash
    crash_on_write(monkeypatch, nth=5)
    runner = toy_runner(tmp_path, max_iters=6, checkpoint=ckpt_hook(max_keep))
    with pytest.raises(Crash):
        runner.train()
    # mmengine's own hook deletes iter_4 before writing iter_6 when max_keep_ckpts=1
    assert (tmp_path / 'last_checkpoint').read_text() == str(tmp_path / 'iter_4.pth')
    assert not (tmp_path / 'iter_6.pth').exists()
    assert not list(tmp_path.glob('.*.partial'))
    assert resolve_resume_checkpoint(str(tmp_path)) == str(tmp_path / 'iter_4.pth')
    ckpt = torch.load(str(tmp_path / 'iter_4.pth'), map_location='cpu')
    assert ckpt['meta']['iter'] == 4 and 'linear.weight' in ckpt['state_dict']


def test_crash_while_writing_last_checkpoint_keeps_the_old_pointer(tmp_path, monkeypatch):
    crash_on_write(monkeypatch, nth=6)  # the pointer to iter_6.pth
    runner = toy_runner(tmp_path, max_iters=6, checkpoint=ckpt_hook(2))
    with pytest.raises(Crash):
        runner.train()
    assert (tmp_path / 'last_checkpoint').read_text() == str(tmp_path / 'iter_4.pth')
    verify_checkpoint(str(tmp_path / 'iter_4.pth'))
    verify_checkpoint(str(tmp_path / 'iter_6.pth'))  # complete, just not pointed to yet
    assert (tmp_path / 'iter_2.pth').exists()  # outdated files go only after the pointer moved


def test_partials_left_by_a_killed_save_are_removed_at_the_next_start(tmp_path):
    stale = tmp_path / f'.iter_6.pth.1234.abcdef12{atomic_io.PARTIAL_SUFFIX}'
    stale.write_bytes(b'PK\x03\x04 half a checkpoint')
    toy_runner(tmp_path, max_iters=2, checkpoint=ckpt_hook(2)).train()
    assert not stale.exists()
    assert (tmp_path / 'iter_2.pth').exists()
