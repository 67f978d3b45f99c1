"""Semi-supervised detectors."""
from .anomed import AnoMed

__all__ = ['AnoMed']
