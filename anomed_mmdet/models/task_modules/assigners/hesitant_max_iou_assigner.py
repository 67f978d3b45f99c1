"""MaxIoU assignment in which ignored regions (hesitant pseudo boxes) only remove negatives.

mmdet's ``MaxIoUAssigner`` with ``ignore_iof_thr`` blanks every prior mostly inside an ignored
box *before* assigning, so a small confident lesion inside a larger hesitant box loses all its
positives; with no confident box in the image it ignores nothing at all. Here the assignment
runs without the ignored boxes, then the priors that came out negative and lie inside an
ignored box (IoF > ``ignore_iof_thr``) become ignored. Positives are never touched.
"""
from typing import Optional

from mmdet.models.task_modules.assigners import AssignResult, MaxIoUAssigner
from mmdet.registry import TASK_UTILS
from mmengine.structures import InstanceData


@TASK_UTILS.register_module()
class HesitantMaxIoUAssigner(MaxIoUAssigner):
    """``MaxIoUAssigner`` whose ignored instances turn negatives into ignored, never positives."""

    def assign(self, pred_instances: InstanceData, gt_instances: InstanceData,
               gt_instances_ignore: Optional[InstanceData] = None, **kwargs) -> AssignResult:
        result = super().assign(pred_instances, gt_instances, None, **kwargs)
        if (self.ignore_iof_thr <= 0 or gt_instances_ignore is None or len(gt_instances_ignore) == 0
                or len(pred_instances) == 0):
            return result
        priors = pred_instances.priors
        ignore = gt_instances_ignore.bboxes.to(priors)
        if self.ignore_wrt_candidates:
            iof = self.iou_calculator(priors, ignore, mode='iof').max(dim=1).values
        else:
            iof = self.iou_calculator(ignore, priors, mode='iof').max(dim=0).values
        inside = (iof > self.ignore_iof_thr).to(result.gt_inds.device) & (result.gt_inds == 0)
        result.gt_inds[inside] = -1
        if result.labels is not None:
            result.labels[inside] = -1
        return result
