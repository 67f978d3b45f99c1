"""Data sets, data generators, DICOM reading and pipeline transforms."""
from . import transforms  # noqa: F401  (register LoadDicomFromFile)
from .synth_cxr import SynthCXRDataset
from .dicom import DicomReadError, read_dicom

__all__ = ['SynthCXRDataset', 'DicomReadError', 'read_dicom']
