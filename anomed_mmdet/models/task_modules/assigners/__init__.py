from .hesitant_max_iou_assigner import HesitantMaxIoUAssigner

__all__ = ['HesitantMaxIoUAssigner']
