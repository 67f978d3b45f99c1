"""Helpers for tests and benchmarks (as ``mmdet.testing``): data samples, small DICOM files."""
from ._dicom import write_dicom
from ._utils import det_data_sample

__all__ = ['det_data_sample', 'write_dicom']
