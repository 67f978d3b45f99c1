"""A hook that SIGKILLs its own process: imported by the resume test's training subprocess."""
import os
import signal

from mmdet.registry import HOOKS
from mmengine.hooks import Hook


@HOOKS.register_module()
class SigkillAfterIterHook(Hook):
    """Kill the process with SIGKILL right after iteration ``at_iter`` (1-based) has updated the
    weights, before any hook saves them: the in-memory state is then ahead of the last checkpoint."""

    priority = 'HIGHEST'

    def __init__(self, at_iter: int) -> None:
        self.at_iter = at_iter

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if runner.iter + 1 == self.at_iter:
            os.kill(os.getpid(), signal.SIGKILL)
