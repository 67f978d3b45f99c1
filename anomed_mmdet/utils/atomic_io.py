"""Atomic file writes: a reader sees the old file or the complete new one, never a part.

The bytes go to a hidden temporary file in the destination's folder, are flushed and
``fsync``-ed, then ``os.replace`` puts the file in place (atomic on POSIX and Windows within one
file system) and the folder is ``fsync``-ed so the rename survives a power cut. A process killed
at any point leaves at most a stale ``.<name>.<pid>.<token>.partial`` file, which
:func:`remove_stale_partials` deletes.

``AtomicLocalBackend`` is mmengine's ``LocalBackend`` with these writes for ``put`` and
``put_text``; it is registered as the file backend ``'atomic_local'``, so
``backend_args=dict(backend='atomic_local')`` makes mmengine's ``save_checkpoint`` atomic.
"""
import glob
import json
import os
import os.path as osp
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Iterator, Union

from mmengine.fileio import LocalBackend, register_backend

PARTIAL_SUFFIX = '.partial'


def _fsync_dir(path: str) -> None:
    """Persist a rename in ``path`` (best effort: not every platform opens folders)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_open(path: Union[str, Path], mode: str = 'wb', **kwargs) -> Iterator[IO]:
    """Open a temporary file beside ``path`` for writing; on a clean exit it is flushed,
    ``fsync``-ed and renamed onto ``path``; on an error it is removed and ``path`` is untouched."""
    if 'w' not in mode:
        raise ValueError(f'atomic_open writes whole files; mode {mode!r} has no "w"')
    path = os.fspath(path)
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = osp.join(folder, f'.{osp.basename(path)}.{os.getpid()}.{uuid.uuid4().hex[:8]}{PARTIAL_SUFFIX}')
    try:
        with open(tmp, mode.replace('w', 'x'), **kwargs) as f:  # 'x': never clobber; honours the umask
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
    _fsync_dir(folder)


def atomic_write_bytes(data: bytes, path: Union[str, Path]) -> None:
    """Write ``data`` to ``path`` atomically (temporary file + fsync + ``os.replace``)."""
    with atomic_open(path, 'wb') as f:
        f.write(data)


def atomic_write_text(text: str, path: Union[str, Path], encoding: str = 'utf-8') -> None:
    """:func:`atomic_write_bytes` for text."""
    atomic_write_bytes(text.encode(encoding), path)


def atomic_write_json(path: Union[str, Path], obj: Any, **dump_kwargs: Any) -> None:
    """Write ``obj`` as json to ``path``: complete or not at all (an error midway leaves any
    previous ``path`` untouched and no temporary file). ``dump_kwargs`` go to ``json.dump``."""
    with atomic_open(path, 'w') as f:
        json.dump(obj, f, **dump_kwargs)


def remove_stale_partials(folder: str) -> int:
    """Delete temporary files that a killed writer left in ``folder``; returns how many."""
    stale = glob.glob(osp.join(glob.escape(folder), f'.*{PARTIAL_SUFFIX}'))
    for path in stale:
        try:
            os.remove(path)
        except FileNotFoundError:  # another process cleaned it meanwhile
            pass
    return len(stale)


@register_backend('atomic_local')
class AtomicLocalBackend(LocalBackend):
    """mmengine's local file backend whose writes are atomic."""

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        atomic_write_bytes(obj, filepath)

    def put_text(self, obj: str, filepath: Union[str, Path], encoding: str = 'utf-8') -> None:
        atomic_write_text(obj, filepath, encoding)
