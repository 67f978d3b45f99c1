"""COCO-format chest X-ray data sets with their class METAINFO."""
from mmdet.registry import DATASETS

from .checked_coco import CheckedCocoDataset
from .synthetic.generator import CLASSES as SYNTH_CLASSES


@DATASETS.register_module()
class SynthCXRDataset(CheckedCocoDataset):
    """The synthetic chest X-ray set written by ``tools/misc/gen_synth_cxr.py``.

    Five lesion classes spanning a >10x size range (calcification ... cardiomegaly), long
    tailed (cardiomegaly < 5% of boxes), with normal images that carry no boxes. Checked at
    load time like any :class:`CheckedCocoDataset` (``on_bad_data``, ``check_images``).
    """

    METAINFO = {
        'classes': SYNTH_CLASSES,
        'palette': [(220, 20, 60), (255, 215, 0), (0, 130, 255), (60, 200, 120), (200, 80, 255)],
    }
