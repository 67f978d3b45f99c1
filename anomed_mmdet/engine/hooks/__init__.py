"""Training hooks: crash-safe checkpoints, EMA guard for skipped non-finite steps, teacher hooks,
the trunk optimizer state carried into a semi-supervised run, test metrics written by rank 0."""
from .atomic_checkpoint_hook import AtomicCheckpointHook
from .exact_resume_hook import ExactResumeHook
from .main_process_logger_hook import MainProcessLoggerHook
from .nonfinite_guard_hook import NonFiniteGuardHook, step_skipped
from .semi_teacher_hooks import BurnInMeanTeacherHook, FreezeBNStatsHook
from .trunk_optim_state_hook import TrunkOptimStateHook, carry_optimizer_state

__all__ = ['AtomicCheckpointHook', 'ExactResumeHook', 'MainProcessLoggerHook', 'NonFiniteGuardHook',
           'step_skipped', 'BurnInMeanTeacherHook', 'FreezeBNStatsHook', 'TrunkOptimStateHook', 'carry_optimizer_state']
