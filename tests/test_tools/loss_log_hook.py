"""A hook that appends each iteration's losses to a json-lines file: imported by the exact-resume
tests' training subprocesses (floats written with repr, so they read back bit for bit)."""
import json

from mmdet.registry import HOOKS
from mmengine.hooks import Hook


@HOOKS.register_module()
class LossLogHook(Hook):
    """One line ``{"iter": n, "losses": {name: value}}`` per training iteration (1-based)."""

    priority = 'LOWEST'

    def __init__(self, path: str) -> None:
        self.path = path

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        losses = {k: float(v) for k, v in (outputs or {}).items() if 'loss' in k}
        with open(self.path, 'a') as f:
            f.write(json.dumps(dict(iter=runner.iter + 1, losses=losses)) + '\n')
