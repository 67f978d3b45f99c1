"""Data pipeline transforms (registered in mmdet's ``TRANSFORMS``)."""
from .loading import CheckedLoadImageFromFile, LoadDicomFromFile

__all__ = ['CheckedLoadImageFromFile', 'LoadDicomFromFile']
