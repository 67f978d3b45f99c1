"""Data pipeline transforms (registered in mmdet's ``TRANSFORMS``)."""
from .loading import LoadDicomFromFile

__all__ = ['LoadDicomFromFile']
