"""Training reliability: atomic checkpoints, skipping non-finite steps (registered on import)."""
from .hooks import AtomicCheckpointHook, BurnInMeanTeacherHook, FreezeBNStatsHook, NonFiniteGuardHook
from .optimizers import NonFiniteLossError, SkipNonFiniteAmpOptimWrapper, SkipNonFiniteOptimWrapper

__all__ = ['AtomicCheckpointHook', 'BurnInMeanTeacherHook', 'FreezeBNStatsHook', 'NonFiniteGuardHook', 'NonFiniteLossError',
           'SkipNonFiniteAmpOptimWrapper', 'SkipNonFiniteOptimWrapper']
