"""A tiny mmengine Runner (one linear layer, random data) to exercise hooks and wrappers fast."""
import uuid
from typing import Optional

import torch
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch import nn
from torch.utils.data import Dataset


class ToyData(Dataset):
    def __len__(self) -> int:
        return 16

    def __getitem__(self, idx: int) -> dict:
        g = torch.Generator().manual_seed(idx)
        return dict(inputs=torch.randn(4, generator=g), target=torch.randn(1, generator=g))


class ToyModel(BaseModel):
    """``loss_fn`` (settable) turns the prediction error into the loss dict."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(4, 1)
        self.bn = nn.BatchNorm1d(4)
        self.loss_fn = None

    def forward(self, inputs, target=None, mode: str = 'tensor'):
        x = self.bn(torch.stack(inputs) if isinstance(inputs, list) else inputs)
        pred = self.linear(x)
        if mode != 'loss':
            return pred
        loss = ((pred - torch.stack(target)) ** 2).mean()
        return self.loss_fn(loss) if self.loss_fn else dict(loss=loss)


def toy_runner(work_dir, max_iters: int = 6, checkpoint: Optional[dict] = None,
               optim_wrapper: Optional[dict] = None, **kwargs) -> Runner:
    import anomed_mmdet  # noqa: F401  (registers the hooks and wrappers)
    return Runner(
        # unique per runner: mmengine's MessageHub / logger are shared by name, and a name built
        # from id() plus a one-second timestamp can repeat and leak one test's counters into another
        model=ToyModel(), work_dir=str(work_dir), experiment_name=f'toy_{uuid.uuid4().hex}',
        default_scope='mmdet',
        train_dataloader=dict(dataset=ToyData(), sampler=dict(type='InfiniteSampler', shuffle=False),
                              batch_size=4, num_workers=0),
        optim_wrapper=optim_wrapper or dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1)),
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=max_iters),
        default_hooks=dict(checkpoint=checkpoint or dict(type='AtomicCheckpointHook', by_epoch=False,
                                                          interval=2),
                           logger=dict(type='LoggerHook', interval=1)),
        **kwargs)
