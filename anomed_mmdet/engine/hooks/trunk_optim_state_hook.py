"""Start a semi-supervised run with the optimizer state of the supervised run it continues."""
import copy
from typing import Dict, Optional

import torch
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS
from mmengine.runner.checkpoint import _load_checkpoint


@HOOKS.register_module()
class TrunkOptimStateHook(Hook):
    """Carry a supervised trunk's optimizer state (moments, step counts) into a teacher-student run.

    ``load_from`` gives the student and teacher the trunk's weights, but a fresh optimizer: with
    AdamW that is a restart (zero moments, bias correction from step 1) worth several AP on a
    short schedule. This hook, run once before the first iteration, gives every student
    parameter the trunk's state for the parameter of the same name, so the semi-supervised run
    continues the trunk's optimisation as the supervised row does. Teacher parameters get no
    state (they are not optimised). A run resumed from its own checkpoint is left alone.

    Args:
        checkpoint: the trunk's checkpoint (as written by mmengine, with ``optimizer``).
        prefix: where the trunk's detector sits in this model (``'student.'``; ``''`` for a
            supervised continuation).
    """

    priority = 'VERY_HIGH'

    def __init__(self, checkpoint: str, prefix: str = 'student.') -> None:
        self.checkpoint = checkpoint
        self.prefix = prefix

    def before_train(self, runner) -> None:
        if runner.iter > 0:  # resumed: the run's own optimizer state was loaded
            return
        ckpt = _load_checkpoint(self.checkpoint, map_location='cpu')
        if 'optimizer' not in ckpt:
            raise KeyError(f'{self.checkpoint} holds no optimizer state (saved with save_optimizer=False?)')
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        n = carry_optimizer_state(runner.optim_wrapper.optimizer, model, ckpt['optimizer'], self.prefix)
        print_log(f'TrunkOptimStateHook: optimizer state of {n} parameters from {self.checkpoint}',
                  logger='current')


def carry_optimizer_state(optimizer: torch.optim.Optimizer, model: torch.nn.Module, trunk_state: Dict,
                          prefix: str = 'student.') -> int:
    """Copy ``trunk_state`` (an optimizer ``state_dict`` of the trunk detector) into ``optimizer``.

    The trunk's state is indexed by the position of each parameter in the trunk's parameter
    order, which is the order of ``model``'s parameters under ``prefix`` (same architecture).

    Returns:
        The number of parameters that received a state.
    """
    sub = [(n[len(prefix):], p) for n, p in model.named_parameters() if n.startswith(prefix)]
    trunk_ids = [i for g in trunk_state['param_groups'] for i in g['params']]
    if len(trunk_ids) != len(sub):
        raise ValueError(f'the trunk optimised {len(trunk_ids)} parameters, this model has {len(sub)} under '
                         f'{prefix!r}: not the same detector')
    by_param = {id(p): (name, trunk_ids[k]) for k, (name, p) in enumerate(sub)}
    carried = 0
    for group in optimizer.param_groups:
        for p in group['params']:
            hit: Optional[tuple] = by_param.get(id(p))
            if hit is None or hit[1] not in trunk_state['state']:
                continue
            name, idx = hit
            state = copy.deepcopy(trunk_state['state'][idx])
            for key, value in state.items():
                if torch.is_tensor(value) and value.dim() > 0 and value.shape != p.shape:
                    raise ValueError(f'{prefix}{name}: trunk {key} has shape {tuple(value.shape)}, '
                                     f'the parameter {tuple(p.shape)}')
            optimizer.state[p] = {k: v.to(p.device) if torch.is_tensor(v) and v.dim() > 0 else v
                                  for k, v in state.items()}
            carried += 1
    return carried
