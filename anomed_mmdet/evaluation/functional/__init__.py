from .froc import FP_RATES, bootstrap_ci, box_iou, froc_curve, match_image, sensitivity_at

__all__ = ['FP_RATES', 'bootstrap_ci', 'box_iou', 'froc_curve', 'match_image', 'sensitivity_at']
