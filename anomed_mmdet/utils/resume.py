"""Pick and check the checkpoint that ``tools/train.py --resume`` continues from.

mmengine resumes from whatever ``<work_dir>/last_checkpoint`` names and fails deep inside
``torch.load`` when that file is damaged (or, for a flipped bit, loads it silently: torch does
not check the zip CRCs). :func:`resolve_resume_checkpoint` checks the file first and stops with
a :class:`CheckpointError` that names it, says what is wrong and lists the earlier checkpoints
of the work dir that pass the same check, so the user chooses one with ``--resume PATH``. We do
not fall back to an older checkpoint on our own: with atomic saving
(:class:`~anomed_mmdet.engine.hooks.AtomicCheckpointHook`) a damaged latest checkpoint means
a disk or copy problem, which deserves a person's look before iterations are silently redone.
"""
import glob
import os
import os.path as osp
import zipfile
from typing import List, Optional

import torch


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be resumed from."""


def _is_remote(path: str) -> bool:
    return '://' in path


def verify_checkpoint(path: str) -> None:
    """Raise :class:`CheckpointError` unless ``path`` is a complete, undamaged checkpoint.

    A zip checkpoint (torch >= 1.6) is read once and every member's CRC-32 checked, which finds
    truncation and flipped bits without unpickling anything; an old-format one is loaded.
    """
    if not osp.isfile(path):
        raise CheckpointError(f'checkpoint {path} does not exist')
    if osp.getsize(path) == 0:
        raise CheckpointError(f'checkpoint {path} is empty (0 bytes)')
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as zf:
                bad = zf.testzip()
        except (zipfile.BadZipFile, OSError, EOFError) as e:
            raise CheckpointError(f'checkpoint {path} is damaged: {e}') from e
        if bad is not None:
            raise CheckpointError(f'checkpoint {path} is damaged: CRC mismatch in its member {bad!r}')
        return
    with open(path, 'rb') as f:
        head = f.read(4)
    if head.startswith(b'PK'):  # a zip whose end (the central directory) is missing
        raise CheckpointError(f'checkpoint {path} is truncated (its zip directory is missing)')
    try:  # legacy (pre-zip) torch format: only loading tells
        torch.load(path, map_location='cpu')
    except Exception as e:  # noqa: BLE001 - any failure means "cannot resume from it"
        raise CheckpointError(f'checkpoint {path} cannot be loaded: {type(e).__name__}: {e}') from e


def intact_checkpoints(work_dir: str, exclude: Optional[str] = None) -> List[str]:
    """The ``*.pth`` files of ``work_dir`` that pass :func:`verify_checkpoint`, newest first."""
    paths = sorted(glob.glob(osp.join(glob.escape(work_dir), '*.pth')), key=osp.getmtime, reverse=True)
    ok = []
    for path in paths:
        if exclude is not None and osp.abspath(path) == osp.abspath(exclude):
            continue
        try:
            verify_checkpoint(path)
        except CheckpointError:
            continue
        ok.append(path)
    return ok


def resolve_resume_checkpoint(work_dir: str, resume: str = 'auto') -> Optional[str]:
    """The checkpoint to resume from, checked.

    Args:
        work_dir: the run's work dir (holds ``last_checkpoint`` and the ``.pth`` files).
        resume: ``'auto'`` for the one ``last_checkpoint`` names, else a path.

    Returns:
        The path, or ``None`` when ``resume='auto'`` and the work dir has no
        ``last_checkpoint`` (a fresh run; mmengine then starts from iteration 0).

    Raises:
        CheckpointError: the file is missing, truncated or damaged. The message names it and
            the earlier checkpoints that pass the check.
    """
    if resume == 'auto':
        pointer = osp.join(work_dir, 'last_checkpoint')
        if not osp.exists(pointer):
            return None
        with open(pointer) as f:
            path = f.read().strip()
        if not path:
            raise CheckpointError(f'{pointer} is empty: pass the checkpoint with --resume PATH; '
                                  f'intact ones: {intact_checkpoints(work_dir) or "none"}')
    else:
        path = resume
    if _is_remote(path):  # only local files are checked
        return path
    try:
        verify_checkpoint(path)
    except CheckpointError as e:
        folder = work_dir if resume == 'auto' else (osp.dirname(path) or os.curdir)
        others = intact_checkpoints(folder, exclude=path)
        hint = (f'intact earlier checkpoints, newest first: {", ".join(others)}; resume from one '
                'with --resume PATH' if others else f'no intact checkpoint in {folder}')
        raise CheckpointError(f'cannot resume: {e}. {hint}') from e
    return path
