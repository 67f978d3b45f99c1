"""Load mmengine checkpoints under torch >= 2.6 with ``weights_only=True`` kept.

mmengine 0.10.7 calls ``torch.load`` without ``weights_only``; since torch 2.6 that means the
restricted unpickler, which refuses the few non-tensor globals that mmengine itself writes into
a checkpoint's ``meta`` (the message hub's ``HistoryBuffer`` and numpy scalars / arrays).
We allow-list exactly those; every other global (a malicious ``__reduce__`` payload included)
is still refused by torch. ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` is never set.

``HistoryBuffer`` pickles its statistics methods as ``getattr(HistoryBuffer, 'min')``. Allowing
the builtin ``getattr`` would open a path to arbitrary code (``__globals__`` -> builtins), so the
pickle's ``getattr`` is bound to :func:`history_buffer_getattr`, which resolves only those
methods and refuses anything else.
"""
import pickle
from typing import List

import numpy as np
import torch


def history_buffer_getattr(obj: object, name: str) -> object:
    """``getattr`` restricted to ``HistoryBuffer``'s registered statistics methods."""
    from mmengine.logging.history_buffer import HistoryBuffer
    allowed = {'min', 'max', 'current', 'mean', *HistoryBuffer._statistics_methods}
    if obj is HistoryBuffer and name in allowed:
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'refusing getattr({obj!r}, {name!r}) in a checkpoint: only HistoryBuffer statistics '
        'methods may be looked up')


def mmengine_checkpoint_globals() -> List[object]:
    """The globals found in checkpoints that mmengine's Runner saves."""
    from mmengine.logging.history_buffer import HistoryBuffer
    try:  # numpy >= 2 moved the pickled reconstruction helpers to numpy._core
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core.multiarray import _reconstruct, scalar
    dtype_classes = [type(np.dtype(t)) for t in (
        np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64,
        np.float16, np.float32, np.float64)]
    getattrs = [(history_buffer_getattr, f'{mod}.getattr') for mod in ('__builtin__', 'builtins')]
    return [HistoryBuffer, scalar, _reconstruct, np.ndarray, np.dtype, *dtype_classes, *getattrs]


def allow_mmengine_checkpoints() -> None:
    """Register :func:`mmengine_checkpoint_globals` with torch's weights-only unpickler."""
    add = getattr(torch.serialization, 'add_safe_globals', None)
    if add is not None:  # torch < 2.4 has no allow-list (and loads everything anyway)
        add(mmengine_checkpoint_globals())
