"""Random number generator states in the checkpoint, restored where the data stream resumes.

mmengine's ``IterBasedTrainLoop`` resumes the data by drawing and discarding ``runner.iter``
batches from a fresh loader (same sampler seed, so the same indices; workers re-seeded by
``worker_init_fn``, so they replay the same augmentations). What it does not restore is the
main process's random state: the model's sampling (RPN / R-CNN samplers, the PLO) and, with
``num_workers=0``, the augmentations themselves, which the replay also consumes. This hook

* captures the RNG states (:func:`~anomed_mmdet.utils.rng_state.get_rng_state`) at the end of
  every training step, before any other hook (``priority='HIGHEST'``);
* puts them back just before the next batch is drawn, so whatever runs between two steps
  (checkpointing, validation, which draws a loader seed from torch) does not shift the
  training stream;
* saves them in each checkpoint (key ``rng_state``; under DDP every rank's, gathered at each
  step because only rank 0 saves) and, on
  ``--resume``, restores them just before the first batch after the replay.

A run killed after iteration k and resumed from the checkpoint of iteration k then computes the
same losses as an unbroken run, bit for bit, with ``randomness=dict(seed=..., deterministic=True)``
(the seed fixes the sampler and worker seeds; without one mmengine draws a new one and the data
order differs, which the hook reports).
"""
import logging
from typing import Any, Callable, Dict, Iterator, List, Optional

from mmdet.registry import HOOKS
from mmengine.dist import all_gather_object, get_rank, get_world_size
from mmengine.hooks import Hook
from mmengine.logging import print_log

from ...utils.rng_state import get_rng_state, set_rng_state

CHECKPOINT_KEY = 'rng_state'


class _BeforeDraw:
    """An iterator that calls ``callback()`` before each item is drawn from ``inner``."""

    def __init__(self, inner: Iterator, callback: Callable[[], None]) -> None:
        self.inner = inner
        self.callback = callback

    def __iter__(self) -> '_BeforeDraw':
        return self

    def __next__(self) -> Any:
        self.callback()
        return next(self.inner)

    def __getattr__(self, name: str) -> Any:  # _dataloader, _epoch, ... of mmengine's iterator
        return getattr(self.inner, name)


def _sampler_seed(runner) -> Optional[int]:
    loader = runner.train_dataloader
    sampler = getattr(getattr(loader, 'batch_sampler', None), 'sampler', None)
    if sampler is None:
        sampler = loader.sampler
    return getattr(sampler, 'seed', None)


def _warn(msg: str) -> None:
    print_log(f'ExactResumeHook: {msg}', logger='current', level=logging.WARNING)


@HOOKS.register_module()
class ExactResumeHook(Hook):
    """Save the RNG states with each checkpoint and restore them on resume (see module doc)."""

    priority = 'HIGHEST'

    def __init__(self) -> None:
        self._after_step: Optional[Dict[str, Any]] = None  # states at the end of the last step
        self._drawn = 0  # batches drawn from the train loader by this process
        self._loaded: Optional[Dict[str, Any]] = None  # the checkpoint's entry
        self._pending: Optional[Dict[str, Any]] = None  # states to restore at draw runner.iter
        self._restore_at = 0
        self._all_states: Optional[List[Dict[str, Any]]] = None  # every rank's _after_step

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self._loaded = checkpoint.get(CHECKPOINT_KEY)

    def before_train(self, runner) -> None:
        loaded, self._loaded = self._loaded, None
        if runner.iter > 0:  # resumed (a load_from of weights only starts at 0)
            self._pending = self._states_to_resume(runner, loaded)
            self._restore_at = runner.iter
        loop = runner.train_loop
        if not hasattr(loop, 'dataloader_iterator'):
            if self._pending is not None:
                _warn(f'{type(loop).__name__} has no dataloader_iterator: RNG states restored '
                      'before training, not at the resumed batch; the run is not bit-identical')
                set_rng_state(self._pending)
                self._pending = None
            return
        loop.dataloader_iterator = _BeforeDraw(loop.dataloader_iterator, self._before_draw)

    def _states_to_resume(self, runner, loaded: Optional[dict]) -> Optional[Dict[str, Any]]:
        if loaded is None:
            _warn('the checkpoint has no RNG states (saved without this hook): the resumed run '
                  'draws other random numbers than an unbroken one')
            return None
        if loaded['batches'] != runner.iter:
            _warn(f'the checkpoint\'s RNG states are from batch {loaded["batches"]}, the run '
                  f'resumes at iteration {runner.iter}')
        seed = _sampler_seed(runner)
        if loaded.get('sampler_seed') is not None and seed != loaded['sampler_seed']:
            _warn(f'the train sampler\'s seed is {seed}, the checkpoint\'s run had '
                  f'{loaded["sampler_seed"]}: the data order differs from that run. Set '
                  'randomness.seed in the config (or --cfg-options randomness.seed=N)')
        states = loaded['states']
        if len(states) != get_world_size():
            _warn(f'the checkpoint holds RNG states of {len(states)} process(es), this run has '
                  f'{get_world_size()}: not restored')
            return None
        return states[get_rank()]

    def _before_draw(self) -> None:
        if self._pending is not None and self._drawn == self._restore_at:
            set_rng_state(self._pending)
            self._pending = None
        elif self._after_step is not None:
            set_rng_state(self._after_step)
        self._drawn += 1

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        self._after_step = get_rng_state()
        # mmengine saves checkpoints on rank 0 only (Runner.save_checkpoint is master_only): the
        # other ranks' states are gathered here, every step (a few kB per rank)
        self._all_states = (all_gather_object(self._after_step) if get_world_size() > 1
                            else [self._after_step])

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        states = self._all_states or [get_rng_state()]
        checkpoint[CHECKPOINT_KEY] = dict(batches=self._drawn, states=states,
                                          sampler_seed=_sampler_seed(runner))
