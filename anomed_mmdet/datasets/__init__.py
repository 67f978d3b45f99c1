"""Data sets and data generators."""
from .chest_xray import SynthCXRDataset

__all__ = ['SynthCXRDataset']
