"""Training hooks: crash-safe checkpoints, EMA guard for skipped non-finite steps, teacher hooks."""
from .atomic_checkpoint_hook import AtomicCheckpointHook
from .exact_resume_hook import ExactResumeHook
from .nonfinite_guard_hook import NonFiniteGuardHook, step_skipped
from .semi_teacher_hooks import BurnInMeanTeacherHook, FreezeBNStatsHook

__all__ = ['AtomicCheckpointHook', 'ExactResumeHook', 'NonFiniteGuardHook', 'step_skipped',
           'BurnInMeanTeacherHook', 'FreezeBNStatsHook']
