"""Training reliability: atomic checkpoints, skipping non-finite steps (registered on import)."""
from .hooks import AtomicCheckpointHook, NonFiniteGuardHook
from .optimizers import NonFiniteLossError, SkipNonFiniteAmpOptimWrapper, SkipNonFiniteOptimWrapper

__all__ = ['AtomicCheckpointHook', 'NonFiniteGuardHook', 'NonFiniteLossError',
           'SkipNonFiniteAmpOptimWrapper', 'SkipNonFiniteOptimWrapper']
