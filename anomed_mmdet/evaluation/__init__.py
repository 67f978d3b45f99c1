"""Evaluation: metrics registered in mmdet's METRICS registry (``FROCMetric``)."""
from .metrics import FROCMetric

__all__ = ['FROCMetric']
