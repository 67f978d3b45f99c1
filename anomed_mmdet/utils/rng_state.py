"""The process's random number generator states (Python, NumPy, torch CPU and CUDA) as a value.

:func:`get_rng_state` returns them in a form that ``torch.load(..., weights_only=True)`` reads
back (tensors, ints, floats, tuples, dicts: no NumPy arrays), so they can travel in a checkpoint;
:func:`set_rng_state` puts them back.
"""
import random
from typing import Any, Dict

import numpy as np
import torch


def get_rng_state() -> Dict[str, Any]:
    """Python's ``random``, NumPy's global generator, torch's CPU generator and, when CUDA is
    initialised, every CUDA device's generator."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    state: Dict[str, Any] = dict(
        python=random.getstate(),
        numpy=dict(kind=kind, keys=torch.from_numpy(keys.astype(np.int64)), pos=int(pos),
                   has_gauss=int(has_gauss), gauss=float(gauss)),
        torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: Dict[str, Any]) -> None:
    """Restore what :func:`get_rng_state` returned (tensors may be on any device).

    CUDA states are restored when CUDA is available and the device count matches; otherwise the
    CUDA generators are left as they are.
    """
    version, internal, gauss_next = state['python']
    random.setstate((version, tuple(internal), gauss_next))
    n = state['numpy']
    keys = n['keys'].cpu().numpy().astype(np.uint32)
    np.random.set_state((n['kind'], keys, n['pos'], n['has_gauss'], n['gauss']))
    torch.set_rng_state(state['torch'].cpu())
    cuda = state.get('cuda')
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all([s.cpu() for s in cuda])
