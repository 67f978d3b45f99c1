"""Training hooks: crash-safe checkpoints, EMA guard for skipped non-finite steps."""
from .atomic_checkpoint_hook import AtomicCheckpointHook
from .nonfinite_guard_hook import NonFiniteGuardHook, step_skipped

__all__ = ['AtomicCheckpointHook', 'NonFiniteGuardHook', 'step_skipped']
