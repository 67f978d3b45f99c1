"""mmengine checkpoints load with weights_only=True; other pickles are still refused."""
import os
import pickle

import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub

import anomed_mmdet  # noqa: F401  (registers the allow-list)
from anomed_mmdet.utils.checkpoint import history_buffer_getattr


def _save(obj, path):
    torch.save(obj, str(path))
    return path


def test_message_hub_state_with_history_buffers_and_numpy_loads(tmp_path):
    hub = MessageHub.get_instance('ckpt-test')
    hub.update_scalar('train/loss', 1.5)
    hub.update_scalar('train/loss', 0.5)
    import numpy as np
    ckpt = {'meta': {'seed': np.int64(3), 'lr': np.float64(0.1), 'arr': np.arange(3)},
            'message_hub': hub.state_dict(), 'state_dict': {'w': torch.ones(2)}}
    loaded = torch.load(str(_save(ckpt, tmp_path / 'c.pth')), map_location='cpu')  # weights_only default
    buf = loaded['message_hub']['log_scalars']['train/loss']
    assert isinstance(buf, HistoryBuffer) and buf.mean() == pytest.approx(1.0)
    assert loaded['meta']['seed'] == 3 and list(loaded['meta']['arr']) == [0, 1, 2]


class _Payload:
    def __reduce__(self):
        return (os.system, (f'touch {self.marker}',))


def test_a_malicious_pickle_is_refused_and_does_not_run(tmp_path):
    marker = tmp_path / 'pwned'
    payload = _Payload()
    payload.marker = marker
    path = _save({'state_dict': {}, 'meta': {'x': payload}}, tmp_path / 'evil.pth')
    with pytest.raises(pickle.UnpicklingError):
        torch.load(str(path), map_location='cpu')
    assert not marker.exists()


def test_restricted_getattr_only_resolves_history_buffer_statistics():
    assert history_buffer_getattr(HistoryBuffer, 'mean') is HistoryBuffer.mean
    with pytest.raises(pickle.UnpicklingError, match='__init__'):
        history_buffer_getattr(HistoryBuffer, '__init__')
    with pytest.raises(pickle.UnpicklingError):
        history_buffer_getattr(os, 'system')


def test_getattr_gadget_through_the_pickle_is_refused(tmp_path):
    """A pickle calling getattr(HistoryBuffer, '__init__') (a step to __globals__) is refused."""
    class Gadget:
        def __reduce__(self):
            return (getattr, (HistoryBuffer, '__init__'))
    path = _save({'meta': Gadget()}, tmp_path / 'g.pth')
    with pytest.raises(pickle.UnpicklingError):
        torch.load(str(path), map_location='cpu')
