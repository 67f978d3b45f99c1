"""Task modules (mmdet's TASK_UTILS registry): assigners."""
from .assigners import HesitantMaxIoUAssigner

__all__ = ['HesitantMaxIoUAssigner']
