"""COCO data sets that check their annotations and images when they load, not at iteration 40,000."""
import copy
import functools
import logging
from typing import List, Optional

from mmcv.transforms import LoadImageFromFile
from mmdet.datasets import CocoDataset
from mmdet.registry import DATASETS
from mmengine.fileio import get_local_path
from mmengine.logging import print_log

from .data_checks import (IMAGE_LEVELS, ON_BAD_DATA, BadDataError, Report, _int, check_choice,
                          check_coco, load_coco_json)

def checked_pipeline(pipeline: list, on_bad_data: str) -> list:
    """``pipeline`` with each ``LoadImageFromFile`` config replaced by ``CheckedLoadImageFromFile``."""
    out = []
    for t in pipeline:
        if isinstance(t, dict) and t.get('type') in ('LoadImageFromFile', LoadImageFromFile):
            t = dict(copy.copy(t), type='CheckedLoadImageFromFile', on_bad_data=on_bad_data)
        out.append(t)
    return out


@DATASETS.register_module()
class CheckedCocoDataset(CocoDataset):
    """mmdet's ``CocoDataset`` that checks its json and images when it loads.

    mmdet silently drops zero-area, out-of-image and unknown-category boxes, fails with a bare
    ``KeyError`` / ``AssertionError`` on a json that is not COCO, and finds a missing or corrupt
    image only when it loads it. Here every entry is checked first
    (:func:`~anomed_mmdet.datasets.data_checks.check_coco`, kinds listed there):

    * ``on_bad_data='error'`` (default): one :class:`BadDataError` lists every problem (json,
      entry, reason) before training starts;
    * ``on_bad_data='skip'``: images with a problem are dropped, counted and logged. A json that
      is not COCO and duplicate ids always raise.

    Images without boxes are negatives: kept and counted. ``LoadImageFromFile`` in ``pipeline``
    becomes :class:`CheckedLoadImageFromFile` with the same ``on_bad_data``, so an image that
    passes the load-time check but does not decode is named (or skipped) during training.

    Args:
        on_bad_data: ``'error'`` or ``'skip'``.
        check_images: ``'header'`` (default: exists, PNG / JPEG magic, PNG size against the
            json, not truncated; two small reads per image), ``'exists'``, ``'decode'`` (full
            decode: slow for large sets, prefer ``tools/misc/check_dataset.py`` once) or ``'none'``.
            Images behind a remote ``backend_args`` / URL prefix are not checked.
        **kwargs: ``CocoDataset`` arguments.

    Attributes:
        data_report: the :class:`~anomed_mmdet.datasets.data_checks.Report` of the last load.
    """

    def __init__(self, *args, on_bad_data: str = 'error', check_images: str = 'header', **kwargs) -> None:
        check_choice('on_bad_data', on_bad_data, ON_BAD_DATA)
        check_choice('check_images', check_images, IMAGE_LEVELS)
        self.on_bad_data = on_bad_data
        self.check_images = check_images
        self.data_report: Optional[Report] = None
        if kwargs.get('pipeline'):
            kwargs['pipeline'] = checked_pipeline(kwargs['pipeline'], on_bad_data)
        super().__init__(*args, **kwargs)

    def load_data_list(self) -> List[dict]:
        with get_local_path(self.ann_file, backend_args=self.backend_args) as local_path:
            data = load_coco_json(self.ann_file, str(local_path))
        img_dir = self.data_prefix.get('img', '') or ''
        remote = self.backend_args is not None or '://' in img_dir
        report = check_coco(data, self.ann_file, img_dir, 'none' if remote else self.check_images)
        self.data_report = report
        name = type(self).__name__
        if report.fatal or (report.problems and self.on_bad_data == 'error'):
            hint = ('' if report.fatal else "set on_bad_data='skip' to train without these images, or ")
            raise BadDataError(
                f'{name}: {len(report.problems)} problem(s) in {self.ann_file} (images: {img_dir}):\n'
                f'{report.describe()}\nFix them, {hint}run tools/misc/check_dataset.py '
                f'{self.ann_file} {img_dir} for the full list.')
        bad = report.bad_image_ids
        # mmdet indexes exactly the json that was checked, less the dropped images and the
        # orphan annotations (it would fail on their entries: bbox None, no file_name, ...)
        images = [im for im in data['images'] if im['id'] not in bad]
        kept = {im['id'] for im in images}
        clean = dict(data, images=images,
                     annotations=[a for a in data.get('annotations', [])
                                  if _int(a.get('image_id')) and a['image_id'] in kept])
        self.COCOAPI = functools.partial(_coco_from_dict, clean)
        try:
            data_list = super().load_data_list()
        finally:
            del self.COCOAPI
        if bad:
            print_log(f'{name}: skipped {len(bad)} of {report.num_images} images of {self.ann_file} '
                      f'(on_bad_data=skip):\n{report.describe(limit=10)}', logger='current',
                      level=logging.WARNING)
        elif report.problems:  # only orphan annotations, which belong to no image
            print_log(f'{name}: ignored in {self.ann_file}:\n{report.describe(limit=10)}',
                      logger='current', level=logging.WARNING)
        print_log(f'{name}: {self.ann_file}: {len(data_list)} images ({report.num_negatives} without '
                  f'boxes, kept as negatives), {report.num_annotations} annotations; images checked: '
                  f'{"none (remote)" if remote else self.check_images}', logger='current')
        return data_list

    def __getitem__(self, idx: int) -> dict:
        try:
            return super().__getitem__(idx)
        except Exception as exc:
            # mmengine raises a plain Exception when the pipeline returned None, i.e. when
            # on_bad_data='skip' skipped the image: in a test set (which cannot drop one), or in
            # training on every draw (the warnings name the files)
            if type(exc) is not Exception:
                raise
            if 'Test time pipline' in str(exc):
                raise BadDataError(
                    f'{type(self).__name__}: test image {self.get_data_info(idx).get("img_path")} of '
                    f'{self.ann_file} could not be loaded; a test set cannot skip an image') from exc
            if 'Cannot find valid image' not in str(exc):
                raise
            raise BadDataError(
                f'{type(self).__name__}: no image of {self.ann_file} could be loaded in '
                f'{self.max_refetch + 1} draws (on_bad_data=skip skipped each; the warnings name '
                f'the files); run tools/misc/check_dataset.py {self.ann_file} '
                f'{self.data_prefix.get("img", "")} --level decode') from exc

    def filter_data(self) -> List[dict]:
        data_list = super().filter_data()
        if not data_list:  # mmengine would fail later with "need at least one array to concatenate"
            report = self.data_report
            raise BadDataError(
                f'{type(self).__name__}: no image left in {self.ann_file}: '
                f'{report.num_images if report else 0} in the json, '
                f'{len(report.bad_image_ids) if report else 0} dropped as bad (on_bad_data=skip), '
                f'the others filtered out (filter_cfg={self.filter_cfg}, classes={self.metainfo.get("classes")})')
        return data_list


def _coco_from_dict(data: dict, _path: str = ''):
    """mmdet's ``COCO`` API over an already loaded (and checked) json dict."""
    from mmdet.datasets.api_wrappers import COCO

    api = COCO()
    api.dataset = data
    api.createIndex()
    api.img_ann_map, api.cat_img_map = api.imgToAnns, api.catToImgs
    return api
