"""Models: necks (SIB, FA) and semi-supervised detectors (AnoMed / PLO)."""
from . import detectors, necks, plo, task_modules  # noqa: F401  (register modules)
