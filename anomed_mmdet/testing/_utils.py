"""Data samples for tests (as ``mmdet.testing._utils``)."""
from typing import Any, Sequence, Tuple

import numpy as np
import torch
from mmdet.structures import DetDataSample
from mmengine.structures import InstanceData

__all__ = ['det_data_sample']


def det_data_sample(boxes: Sequence = (), labels: Sequence = (), img_shape: Tuple[int, int] = (64, 64),
                    **instance_fields: Any) -> DetDataSample:
    """A ``DetDataSample`` of an unscaled, unpadded image with its ``gt_instances``.

    Args:
        boxes: ``[x1, y1, x2, y2]`` boxes in pixels (float32).
        labels: one class index per box (int64).
        img_shape: ``(h, w)``; also the original, padded and batch input shape.
        **instance_fields: more per-box fields, e.g. ``scores`` or ``plo_group`` (tensors of
            the values' own dtype: floats float32, integers int64).

    Returns:
        The sample, with the metainfo a semi-supervised detector reads (identity
        ``homography_matrix``, ``scale_factor`` 1).
    """
    sample = DetDataSample(metainfo=dict(
        img_shape=img_shape, ori_shape=img_shape, pad_shape=img_shape, batch_input_shape=img_shape,
        scale_factor=(1.0, 1.0), homography_matrix=np.eye(3, dtype=np.float32)))
    inst = InstanceData(bboxes=torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
                        labels=torch.tensor(labels, dtype=torch.long))
    for key, values in instance_fields.items():
        inst[key] = torch.as_tensor(values)
    sample.gt_instances = inst
    return sample
