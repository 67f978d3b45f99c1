"""AnoMed-MMDet: importing this package registers its modules in mmdet's registries.

Configs do this with ``custom_imports = dict(imports=['anomed_mmdet'])``. Importing it also
lets torch's weights-only loader read the checkpoints that mmengine writes (resume,
``load_from``, ``tools/test.py CKPT``) without opening it to arbitrary pickles.
"""
from . import datasets, engine, evaluation, models  # noqa: F401  (register data sets, hooks, metrics, models)
from .utils import allow_mmengine_checkpoints
from .version import __version__

allow_mmengine_checkpoints()

__all__ = ['__version__']
