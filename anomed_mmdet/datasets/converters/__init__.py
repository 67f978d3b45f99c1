"""Converters from public chest X-ray data sets to COCO json + PNG, and SSOD splits.

Importable logic for ``tools/dataset_converters/*.py`` and ``tools/misc/split_semi.py``.
"""
from ...utils.atomic_io import atomic_write_json
from .common import ConversionReport, png_info

__all__ = ['ConversionReport', 'atomic_write_json', 'png_info']
