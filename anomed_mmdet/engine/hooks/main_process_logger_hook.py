"""mmengine's LoggerHook with the test-metrics JSON written by the main process only."""
from typing import Dict, Optional

from mmdet.registry import HOOKS
from mmengine.dist import is_main_process
from mmengine.hooks import LoggerHook


@HOOKS.register_module()
class MainProcessLoggerHook(LoggerHook):
    """``LoggerHook`` whose ``after_test_epoch`` runs on the main process only.

    mmengine 0.10's ``LoggerHook.after_test_epoch`` dumps ``<work_dir>/<timestamp>/<timestamp>.json``
    on every rank, to the same path. Under ``tools/dist_test.sh`` the ranks truncate and write that
    file at the same time; their lines differ in length (``time``, ``data_time``), so the file can
    end as one rank's JSON followed by the tail of another's, which ``json.loads`` rejects. The
    metrics are the same on every rank (the evaluator broadcasts them), so rank 0's copy is kept
    and the others skip the hook; training and validation logging are mmengine's unchanged.
    """

    def after_test_epoch(self, runner, metrics: Optional[Dict[str, float]] = None) -> None:
        if is_main_process():
            super().after_test_epoch(runner, metrics)
