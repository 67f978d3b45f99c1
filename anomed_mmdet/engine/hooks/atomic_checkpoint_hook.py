"""mmengine's CheckpointHook with crash-safe writes."""
import os.path as osp
from typing import List

from mmdet.registry import HOOKS
from mmengine.dist import is_main_process
from mmengine.fileio import LocalBackend, get_file_backend
from mmengine.hooks import CheckpointHook

from ...utils.atomic_io import AtomicLocalBackend, atomic_write_text, remove_stale_partials


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """``CheckpointHook`` (same arguments) whose checkpoints survive a kill at any moment.

    mmengine writes ``iter_N.pth`` and then ``<work_dir>/last_checkpoint`` in place, and with
    ``max_keep_ckpts`` deletes the oldest checkpoint *before* writing the new one: a kill while
    saving can leave a truncated ``.pth``, a truncated ``last_checkpoint``, or (``max_keep_ckpts
    =1``) no checkpoint at all. Here, for a local ``out_dir``:

    * every ``.pth`` (periodic, last and best) is written through
      :class:`~anomed_mmdet.utils.atomic_io.AtomicLocalBackend` (temporary file + fsync +
      ``os.replace``), so it is complete or absent;
    * ``last_checkpoint`` is replaced atomically after the ``.pth`` is in place, so it always
      names a complete file;
    * outdated checkpoints are deleted only after both, so the previous one exists until the
      new one does;
    * temporary files left by a killed save are removed at the start of training.

    A remote ``out_dir`` or ``file_client_args`` falls back to mmengine's behaviour.
    """

    def before_train(self, runner) -> None:
        super().before_train(runner)
        self.atomic = self.file_client_args is None and type(self.file_backend) in (LocalBackend,
                                                                                     AtomicLocalBackend)
        if not self.atomic:
            runner.logger.warning(f'AtomicCheckpointHook: {self.out_dir} is not a local folder; '
                                  'checkpoints are written non-atomically')
            return
        self.backend_args = dict(self.backend_args or {}, backend='atomic_local')
        self.file_backend = get_file_backend(self.out_dir, backend_args=self.backend_args)
        if is_main_process():
            for folder in {self.out_dir, runner.work_dir}:
                n = remove_stale_partials(folder) if osp.isdir(folder) else 0
                if n:
                    runner.logger.info(f'removed {n} partial checkpoint file(s) of an interrupted '
                                       f'save in {folder}')

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        if not getattr(self, 'atomic', False):
            return super()._save_checkpoint_with_step(runner, step, meta)
        outdated: List[int] = []
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                outdated.append(self.keep_ckpt_ids.popleft())
            self.keep_ckpt_ids.append(step)
            # recorded before saving, as mmengine does: a resumed run knows which files are its own
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))

        filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir, filename, self.file_client_args,
            save_optimizer=self.save_optimizer, save_param_scheduler=self.save_param_scheduler,
            meta=meta, by_epoch=self.by_epoch, backend_args=self.backend_args, **self.args)
        if not is_main_process():
            return
        atomic_write_text(self.last_ckpt, osp.join(runner.work_dir, 'last_checkpoint'))
        for old in outdated:
            path = self.file_backend.join_path(self.out_dir, self.filename_tmpl.format(old))
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):  # deepspeed checkpoints are folders
                self.file_backend.rmtree(path)
