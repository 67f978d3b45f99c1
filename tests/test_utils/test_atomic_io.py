"""Atomic writes replace a file whole or not at all."""
import os

import pytest
from mmengine.fileio import get_file_backend

from anomed_mmdet.utils import atomic_io
from anomed_mmdet.utils.atomic_io import AtomicLocalBackend, atomic_write_bytes, remove_stale_partials


def test_write_replaces_the_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / 'sub' / 'f.bin'
    atomic_write_bytes(b'one', path)
    atomic_write_bytes(b'two', path)
    assert path.read_bytes() == b'two'
    assert os.listdir(path.parent) == ['f.bin']


def test_a_failed_rename_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / 'f.bin'
    path.write_bytes(b'old')

    def fail(*args):
        raise OSError('disk full')
    monkeypatch.setattr(atomic_io.os, 'replace', fail)
    with pytest.raises(OSError, match='disk full'):
        atomic_write_bytes(b'new', path)
    assert path.read_bytes() == b'old'
    assert os.listdir(tmp_path) == ['f.bin']


def test_backend_is_registered_and_writes_atomically(tmp_path):
    backend = get_file_backend(str(tmp_path), backend_args=dict(backend='atomic_local'))
    assert isinstance(backend, AtomicLocalBackend)
    backend.put_text('hello', tmp_path / 't.txt')
    assert backend.get_text(tmp_path / 't.txt') == 'hello'


def test_remove_stale_partials_only_touches_partials(tmp_path):
    (tmp_path / f'.iter_2.pth.1.deadbeef{atomic_io.PARTIAL_SUFFIX}').write_bytes(b'x')
    (tmp_path / 'iter_2.pth').write_bytes(b'y')
    assert remove_stale_partials(str(tmp_path)) == 1
    assert os.listdir(tmp_path) == ['iter_2.pth']
