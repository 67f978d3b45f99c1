"""Models: necks (SIB, FA) and semi-supervised detectors (AnoMed / PLO)."""
from . import detectors, necks  # noqa: F401  (register modules)
