"""Helpers for tests and benchmarks (as ``mmdet.testing``): small DICOM files."""
from ._dicom import write_dicom

__all__ = ['write_dicom']
