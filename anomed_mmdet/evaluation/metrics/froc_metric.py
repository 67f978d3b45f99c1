"""``FROCMetric``: lesion-level sensitivity at fixed false positives per image (FROC, CPM).

Library or own code: MONAI (Apache-2.0) has ``compute_froc_curve_data`` / ``compute_froc_score``,
but they start from already matched TP / FP probabilities (box matching stays ours), its FP
rate read-out interpolates the curve, and MONAI is a large dependency for two short functions.
``coco-froc-analysis`` (PyPI) reads a ground-truth json and a prediction json from disk and
samples a fixed number of thresholds; it does not take mmengine data samples and has one
maintainer. The matching and the staircase curve fit in
``anomed_mmdet/evaluation/functional/froc.py`` (numpy), so both are implemented here.

Ground truth comes from each data sample's ``gt_instances`` / ``ignored_instances`` (as
mmdet's ``VOCMetric`` reads it; the test pipeline needs ``LoadAnnotations`` after ``Resize`` so
that boxes stay in original-image coordinates, like the predictions) or, failing that, from
``instances`` (the data set's records).
"""
import os
import os.path as osp
import re
from logging import FileHandler
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger, print_log

from mmdet.registry import METRICS
from ..functional.froc import FP_RATES, LEFT_OUT, TP, bootstrap_ci, froc_curve, match_image, sensitivity_at


def _numpy(x, dtype=None) -> np.ndarray:
    """A numpy array from a tensor, an mmdet box type, a list or an array."""
    x = getattr(x, 'tensor', x)  # mmdet BaseBoxes
    if hasattr(x, 'detach'):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=dtype)


def _ground_truth(sample: dict):
    """(boxes, labels, ignored boxes, ignored labels) of one data sample."""
    if 'gt_instances' in sample:
        gt, ign = sample['gt_instances'], sample.get('ignored_instances') or {}
        ign_boxes = _numpy(ign['bboxes'], np.float64).reshape(-1, 4) if 'bboxes' in ign else np.zeros((0, 4))
        ign_labels = _numpy(ign['labels'], np.int64).reshape(-1) if 'labels' in ign else np.zeros(0, np.int64)
        return (_numpy(gt['bboxes'], np.float64).reshape(-1, 4), _numpy(gt['labels'], np.int64).reshape(-1),
                ign_boxes, ign_labels)
    if 'instances' in sample:
        keep = [i for i in sample['instances'] if not i.get('ignore_flag', 0)]
        drop = [i for i in sample['instances'] if i.get('ignore_flag', 0)]

        def arrays(items):
            return (np.asarray([i['bbox'] for i in items], np.float64).reshape(-1, 4),
                    np.asarray([i['bbox_label'] for i in items], np.int64))
        return (*arrays(keep), *arrays(drop))
    raise ValueError('FROCMetric needs ground truth in each data sample (gt_instances or instances): '
                     "put LoadAnnotations (after Resize) in the test pipeline")


def _key(name: str) -> str:
    """A class name usable in a metric key: 'Nodule/Mass' -> 'Nodule_Mass'."""
    return re.sub(r'\W+', '_', str(name)).strip('_') or 'class'


def _rate(r: float) -> str:
    return f'{r:g}'


@METRICS.register_module()
class FROCMetric(BaseMetric):
    """Free-response ROC: sensitivity at ``fp_rates`` false positives per image and their mean (CPM).

    Args:
        hit: ``'iou'`` (IoU with the lesion >= ``iou_thr``) or ``'center'`` (the prediction's
            centre inside the lesion's box). The class must match in both.
        iou_thr: IoU threshold of ``hit='iou'``.
        fp_rates: false positives per image at which sensitivity is read; CPM is their mean.
        classwise: also report each class's curve (``{class}_cpm``, ``{class}_sens@{rate}``).
        class_agnostic: the overall curve ignores classes (any finding on any lesion);
            per-class curves always match classes.
        bootstrap: number of bootstrap samples over images for 95% intervals of the overall
            values (``cpm_ci_low`` / ``cpm_ci_high``, ``sens@{rate}_ci_low`` / ``_ci_high``); 0: none.
        seed: seed of the bootstrap.
        plot: write a PNG of the curves, to ``{outfile_prefix}.{prefix}.png`` or, when
            ``outfile_prefix`` is None, to ``{prefix}.png`` beside the running log file
            (``work_dir/<timestamp>/``); no PNG when there is neither.
    """

    default_prefix: Optional[str] = 'froc'

    def __init__(self, hit: str = 'iou', iou_thr: float = 0.5, fp_rates: Sequence[float] = FP_RATES,
                 classwise: bool = True, class_agnostic: bool = False, bootstrap: int = 0,
                 seed: Optional[int] = 0, plot: bool = True, outfile_prefix: Optional[str] = None,
                 collect_device: str = 'cpu', prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if hit not in ('iou', 'center'):
            raise ValueError(f"hit must be 'iou' or 'center', got {hit!r}")
        self.hit, self.iou_thr = hit, float(iou_thr)
        self.fp_rates = tuple(float(r) for r in fp_rates)
        self.classwise, self.class_agnostic = classwise, class_agnostic
        self.bootstrap, self.seed = int(bootstrap), seed
        self.plot, self.outfile_prefix = plot, outfile_prefix

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Match each image's predictions to its lesions; keep scores, labels and outcomes."""
        for sample in data_samples:
            gt_boxes, gt_labels, ign_boxes, ign_labels = _ground_truth(sample)
            pred = sample['pred_instances']
            boxes = _numpy(pred['bboxes'], np.float64).reshape(-1, 4)
            scores = _numpy(pred['scores'], np.float64).reshape(-1)
            labels = _numpy(pred['labels'], np.int64).reshape(-1)
            status = match_image(boxes, scores, labels, gt_boxes, gt_labels, ign_boxes, ign_labels,
                                 self.hit, self.iou_thr)
            result = dict(scores=scores, labels=labels, status=status, gt_labels=gt_labels)
            if self.class_agnostic:
                result['agnostic'] = match_image(boxes, scores, np.zeros_like(labels), gt_boxes,
                                                 np.zeros_like(gt_labels), ign_boxes, np.zeros_like(ign_labels),
                                                 self.hit, self.iou_thr)
            self.results.append(result)

    def _curve(self, results: List[dict], label: Optional[int], key: str = 'status') -> dict:
        """The curve over all images of the predictions (of one class, or all) and its read-out."""
        scores = np.concatenate([r['scores'] for r in results])
        labels = np.concatenate([r['labels'] for r in results])
        status = np.concatenate([r[key] for r in results])
        image = np.concatenate([np.full(len(r['scores']), i) for i, r in enumerate(results)])
        lesions = np.array([len(r['gt_labels']) if label is None else int((r['gt_labels'] == label).sum())
                            for r in results], dtype=np.float64)
        keep = (status != LEFT_OUT) & (True if label is None else labels == label)
        scores, status, image = scores[keep], status[keep], image[keep]
        order = np.argsort(-scores, kind='stable')
        scores, is_tp, image = scores[order], status[order] == TP, image[order]
        fppi, sens, _ = froc_curve(scores, is_tp, lesions.sum(), len(results))
        values = sensitivity_at(fppi, sens, self.fp_rates)
        curve = dict(fppi=fppi, sens=sens, values=values, cpm=float(values.mean()), lesions=int(lesions.sum()))
        if label is None and self.bootstrap > 0:
            curve['ci'] = bootstrap_ci(scores, is_tp, image, lesions, self.bootstrap, self.seed, self.fp_rates)
        return curve

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """``sens@{rate}``, ``cpm`` (and intervals), then per class; -1 where there is no lesion."""
        def value(v: float) -> float:
            return -1.0 if np.isnan(v) else float(v)

        overall = self._curve(results, None, 'agnostic' if self.class_agnostic else 'status')
        metrics = {f'sens@{_rate(r)}': value(v) for r, v in zip(self.fp_rates, overall['values'])}
        metrics['cpm'] = value(overall['cpm'])
        if 'ci' in overall:
            for j, name in enumerate([f'sens@{_rate(r)}' for r in self.fp_rates] + ['cpm']):
                metrics[f'{name}_ci_low'] = value(overall['ci'][0, j])
                metrics[f'{name}_ci_high'] = value(overall['ci'][1, j])
        curves = {'all': overall}
        if self.classwise:
            classes = (self.dataset_meta or {}).get('classes') or [
                str(k) for k in range(1 + max([-1] + [int(r['gt_labels'].max(initial=-1)) for r in results]
                                              + [int(r['labels'].max(initial=-1)) for r in results]))]
            for k, name in enumerate(classes):
                curves[name] = c = self._curve(results, k)
                metrics[f'{_key(name)}_cpm'] = value(c['cpm'])
                for r, v in zip(self.fp_rates, c['values']):
                    metrics[f'{_key(name)}_sens@{_rate(r)}'] = value(v)
        self._log_table(curves, len(results))
        if self.plot:
            path = self._png_path()
            if path is not None:
                from ..froc_plot import plot_froc  # matplotlib only when plotting
                plot_froc(curves, path, self.fp_rates, self._title(len(results), overall))
                print_log(f'FROC curves written to {path}', logger='current')
        return metrics

    def _title(self, num_images: int, overall: dict) -> str:
        rule = f'IoU >= {self.iou_thr:g}' if self.hit == 'iou' else 'centre in box'
        ci = f" [{overall['ci'][0, -1]:.3f}, {overall['ci'][1, -1]:.3f}]" if 'ci' in overall else ''
        return f"FROC ({rule}; {num_images} images): CPM {overall['cpm']:.3f}{ci}"

    def _log_table(self, curves: Dict[str, dict], num_images: int) -> None:
        from terminaltables import AsciiTable
        head = ['class', 'lesions'] + [f'@{_rate(r)}' for r in self.fp_rates] + ['CPM']
        rows = [[name, str(c['lesions'])] + ['-' if np.isnan(v) else f'{v:.3f}' for v in [*c['values'], c['cpm']]]
                for name, c in curves.items()]
        print_log(f'\nFROC: sensitivity at FPs per image ({num_images} images)\n'
                  + AsciiTable([head] + rows).table, logger='current')

    def _png_path(self) -> Optional[str]:
        if self.outfile_prefix is not None:
            path = f'{self.outfile_prefix}.{self.prefix}.png'
        else:
            files = [h.baseFilename for h in MMLogger.get_current_instance().handlers if isinstance(h, FileHandler)]
            if not files:
                return None
            path = osp.join(osp.dirname(files[0]), f'{self.prefix}.png')
        os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
        return path
