"""Data sets, data generators, DICOM reading and pipeline transforms."""
from . import transforms  # noqa: F401  (register LoadDicomFromFile)
from .chest_xray import SynthCXRDataset
from .dicom import DicomReadError, read_dicom

__all__ = ['SynthCXRDataset', 'DicomReadError', 'read_dicom']
