"""The readers of hostile input, each wrapped as a fuzz target: make one mutated case, run the
reader on it, and classify what happened.

An outcome is ``valid`` (the reader returned, and its result passes the target's checks),
``named`` (the reader raised the project's error for that input, naming the file; or, for the
converters / check_dataset / infer, reported the bad input by name and went on) or ``failure``
(any other exception, an invalid result; the runner adds crashes, hangs and memory).
"""
from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Sequence, Tuple

import numpy as np

from . import mutators as M

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Outcome:
    status: str            # 'valid' | 'named' | 'failure'
    kind: str              # named: the error kind; failure: what failed
    detail: str = ''


def valid(kind: str = 'ok') -> Outcome:
    return Outcome('valid', kind)


def named(kind: str, detail: str = '') -> Outcome:
    return Outcome('named', kind, detail)


def failure(kind: str, detail: str = '') -> Outcome:
    return Outcome('failure', kind, detail)


def memory_error_in_chain(exc: BaseException) -> bool:
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, MemoryError):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def unexpected(exc: BaseException) -> Outcome:
    """An exception the reader should not have let out."""
    if memory_error_in_chain(exc):
        return failure('memory', f'{type(exc).__name__}: {str(exc)[:300]}')
    return failure(f'exception:{type(exc).__name__}', str(exc)[:300])


#: DicomReadError reasons -> kinds (first match wins).
DICOM_KINDS = (
    ('deflated data set too large', 'deflate_bomb'), ('Transfer Syntax', 'bad_transfer_syntax'),
    ('too large', 'too_large'), ('invalid Rows', 'bad_size'), ('invalid Columns', 'bad_size'),
    ('invalid SamplesPerPixel', 'bad_size'), ('not a valid DICOM', 'not_dicom'), ('no pixel data', 'no_pixel_data'),
    ('photometric', 'photometric'), ('multi-frame', 'multi_frame'), ('out of range', 'frame_range'),
    ('needs a decoder', 'no_decoder'), ('not supported by pydicom', 'unsupported_syntax'),
    ('compressed pixel data', 'corrupt_compressed'), ('pixel data', 'corrupt_pixels'),
    ('expected a 2-D', 'not_2d'), ('not finite', 'not_finite'), ('header', 'corrupt_header'),
    ('truncated or corrupt DICOM', 'corrupt_file'), ('cannot read the file', 'unreadable'),
)


def dicom_kind(reason: str) -> str:
    """The kind of a DicomReadError reason, from the project's wording only (pydicom's exception
    text, appended in parentheses, is left out)."""
    own = re.sub(r' \([\w.]*(Error|Exception|error)\b.*$', '', reason, flags=re.S)
    return next((k for key, k in DICOM_KINDS if key in own), 'other')


def dicom_error(exc: BaseException, path: str) -> Outcome:
    from anomed_mmdet.datasets.dicom import DicomReadError
    if isinstance(exc, DicomReadError) and not memory_error_in_chain(exc):
        if path not in str(exc):
            return failure('unnamed:DicomReadError', str(exc)[:300])
        return named(dicom_kind(exc.reason), exc.reason[:200])
    return unexpected(exc)


# --------------------------------------------------------------------------------------- seeds

def ramp(h: int, w: int, top: int = 4096) -> np.ndarray:
    return (np.arange(h * w).reshape(h, w) * 7 % top).astype(np.uint16)


@contextlib.contextmanager
def fixed_uids():
    """Deterministic UIDs for the seeds (``write_dicom`` draws random ones): the same case index
    then gives the same bytes in every worker and every run."""
    import itertools
    from unittest import mock
    counter = itertools.count(1)
    with mock.patch('pydicom.uid.generate_uid', lambda *a, **k: f'1.2.826.0.1.3680043.10.1099.{next(counter)}'):
        yield


def dicom_seeds(tmp: Path) -> Dict[str, bytes]:
    """Small valid DICOM files covering what read_dicom handles (and what it rejects)."""
    with fixed_uids():
        return _dicom_seeds(tmp)


def _dicom_seeds(tmp: Path) -> Dict[str, bytes]:
    import pydicom
    from pydicom.uid import (DeflatedExplicitVRLittleEndian, ImplicitVRLittleEndian, JPEGBaseline8Bit,
                             JPEGLSLossless, RLELossless)

    from anomed_mmdet.testing import write_dicom
    tmp.mkdir(parents=True, exist_ok=True)
    px = ramp(16, 24)
    seeds: Dict[str, str] = {
        'mono2': write_dicom(tmp / 'mono2.dcm', px, pixel_spacing=(0.2, 0.2)),
        'mono1_window': write_dicom(tmp / 'mono1.dcm', px, photometric='MONOCHROME1', window=(2048, 4096)),
        'signed_rescale': write_dicom(tmp / 'signed.dcm', px.astype(np.int16) - 2048, signed=True,
                                      rescale=(0.5, -1024)),
        'voi_lut': write_dicom(tmp / 'voilut.dcm', px, voi_lut=(0, 16, list(range(0, 65536, 256)))),
        'sigmoid': write_dicom(tmp / 'sigmoid.dcm', px, window=(2000, 1000), extra={'VOILUTFunction': 'SIGMOID'}),
        'multi_frame': write_dicom(tmp / 'multi.dcm', np.stack([px, px[::-1]]), num_frames=2),
        'no_pixels': write_dicom(tmp / 'nopix.dcm', px, with_pixels=False),
        'jpeg_ls_fake': write_dicom(tmp / 'jls.dcm', px, transfer_syntax=JPEGLSLossless,
                                    encapsulated=b'\xff\xd8\xff\xf7' + bytes(60)),
        'jpeg_fake': write_dicom(tmp / 'jpg.dcm', px, transfer_syntax=JPEGBaseline8Bit,
                                 encapsulated=b'\xff\xd8\xff\xe0' + bytes(60) + b'\xff\xd9'),
    }
    ds = pydicom.dcmread(seeds['mono2'])
    ds.compress(RLELossless, generate_instance_uid=False)
    ds.save_as(tmp / 'rle.dcm')
    seeds['rle'] = str(tmp / 'rle.dcm')
    for name, uid in (('deflated', DeflatedExplicitVRLittleEndian), ('implicit', ImplicitVRLittleEndian)):
        ds = pydicom.dcmread(seeds['mono1_window'])
        ds.file_meta.TransferSyntaxUID = uid
        ds.save_as(tmp / f'{name}.dcm', enforce_file_format=True)
        seeds[name] = str(tmp / f'{name}.dcm')
    # 8-bit RGB
    ds = pydicom.dcmread(seeds['mono2'])
    rgb = np.stack([px % 256, (px // 16) % 256, np.full_like(px, 40)], -1).astype(np.uint8)
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, 'RGB', 0
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 8, 8, 7
    ds.PixelData = rgb.tobytes()
    ds['PixelData'].VR = 'OB'
    ds.save_as(tmp / 'rgb.dcm', enforce_file_format=True)
    seeds['rgb'] = str(tmp / 'rgb.dcm')
    return {k: Path(v).read_bytes() for k, v in seeds.items()}


def mutated_dicom(rng: random.Random, seeds: Dict[str, bytes], path: Path) -> str:
    names = sorted(seeds)
    seed = rng.choice(names)
    data, desc = M.mutate_dicom(rng, seeds[seed], seeds[rng.choice(names)])
    path.write_bytes(data)
    return f'{seed}: {desc}'


def png_bytes(img: np.ndarray, ext: str = '.png') -> bytes:
    import cv2
    ok, buf = cv2.imencode(ext, img)
    assert ok
    return buf.tobytes()


# --------------------------------------------------------------------------------------- targets

class Target:
    """A reader under fuzzing. ``make`` writes a case, ``call`` runs the reader on it."""

    name = ''

    def setup(self, tmp: Path) -> None:
        pass

    def make(self, rng: random.Random, case: Path) -> Tuple[Any, str]:
        raise NotImplementedError

    def call(self, rng: random.Random, case: Path, made: Any) -> Outcome:
        raise NotImplementedError


class ReadDicom(Target):
    name = 'read_dicom'

    def setup(self, tmp: Path) -> None:
        self.seeds = dicom_seeds(tmp / 'dicom_seeds')

    def make(self, rng, case):
        path = case / rng.choice(('x.dcm', 'x.dicom', 'x.DCM'))
        return path, mutated_dicom(rng, self.seeds, path)

    def call(self, rng, case, path):
        from anomed_mmdet.datasets.dicom import read_dicom
        dtype = rng.choice((np.uint8, np.uint16, np.float32))
        voi = rng.choice(('auto', 'window', 'minmax'))
        frame = rng.choice((None,) * 6 + (0, 1))
        try:
            img, meta = read_dicom(str(path), voi=voi, out_dtype=dtype, frame=frame, return_meta=True)
        except Exception as exc:  # noqa: BLE001
            return dicom_error(exc, str(path))
        return check_image(img, dtype, meta)


def check_image(img: Any, dtype: Any, meta: Optional[dict] = None, ndim: int = 2, top: float = 1.0) -> Outcome:
    if not isinstance(img, np.ndarray):
        return failure('invalid_result', f'not an array: {type(img).__name__}')
    if img.ndim != ndim or min(img.shape) < 1 or img.dtype != np.dtype(dtype):
        return failure('invalid_result', f'shape {img.shape} dtype {img.dtype} (wanted {ndim}-D {np.dtype(dtype)})')
    if meta is not None and tuple(meta['shape']) != img.shape[:2]:
        return failure('invalid_result', f'meta shape {meta["shape"]} != {img.shape}')
    if img.dtype == np.float32 and not (np.isfinite(img).all() and img.min() >= 0 and img.max() <= top):
        return failure('invalid_result', f'float image outside [0, {top:g}] or not finite '
                       f'(min {np.nanmin(img) if np.isfinite(img).any() else "nan"})')
    return valid()


class LoadDicom(ReadDicom):
    name = 'LoadDicomFromFile'

    def call(self, rng, case, path):
        from anomed_mmdet.datasets.transforms import LoadDicomFromFile
        color = rng.choice(('color', 'grayscale', 'unchanged'))
        bits = rng.choice((8, 16))
        to_float = rng.random() < 0.3
        ignore_empty = rng.random() < 0.2
        t = LoadDicomFromFile(color_type=color, bit_depth=bits, to_float32=to_float, with_meta=rng.random() < 0.5,
                              ignore_empty=ignore_empty, voi=rng.choice(('auto', 'window', 'minmax')))
        try:
            out = t(dict(img_path=str(path)))
        except Exception as exc:  # noqa: BLE001
            return dicom_error(exc, str(path))
        if out is None:
            return named('ignored_empty') if ignore_empty else failure('invalid_result', 'None without ignore_empty')
        dtype = np.float32 if to_float else (np.uint8 if bits == 8 else np.uint16)
        res = check_image(out['img'], dtype, ndim=3 if color == 'color' else 2, top=2.0**bits - 1)
        if res.status == 'valid' and tuple(out['img_shape']) != out['img'].shape[:2]:
            return failure('invalid_result', 'img_shape does not match img')
        return res


# ------------------------------------------------------------------------------------- VinDr-CXR

VINDR_HEADER = 'image_id,class_name,class_id,rad_id,x_min,y_min,x_max,y_max'
VINDR_ROWS = ('img_a,Nodule/Mass,8,R1,10,10,20,20', 'img_a,Nodule/Mass,8,R2,11,11,21,21',
              'img_a,Cardiomegaly,3,R1,20,30,50,60', 'img_b,No finding,14,R1,,,,',
              'img_b,No finding,14,R2,,,,', 'img_c,Calcification,2,R3,5,5,15,15',
              'img_c,Atelectasis,1,R2,5,5,30,30', 'img_c,Calcification,2,R2,40,40,64.5,50')


def named_by_message(exc: BaseException, names: Sequence[str], allowed: tuple) -> Outcome:
    """``named`` if ``exc`` is one of ``allowed`` and its message names one of ``names``."""
    if memory_error_in_chain(exc) or not isinstance(exc, allowed):
        return unexpected(exc)
    msg = str(exc)
    if not any(n and n in msg for n in names):
        return failure(f'unnamed:{type(exc).__name__}', msg[:300])
    short = re.sub(r'^.*?: ', '', msg.splitlines()[0])[:40]
    return named(f'{type(exc).__name__}: {short.split("(")[0].split(";")[0].strip()}', msg[:200])


def check_coco_output(json_path: Path, img_dir: Path, level: str) -> Optional[Outcome]:
    """A converter's json must be a clean COCO set (else a failure)."""
    from anomed_mmdet.datasets.data_checks import BadDataError, check_coco, load_coco_json
    try:
        data = load_coco_json(str(json_path))
        report = check_coco(data, str(json_path), str(img_dir), level)
    except BadDataError as exc:
        return failure('invalid_output', str(exc)[:300])
    if report.problems:
        return failure('invalid_output', report.describe(limit=3)[:300])
    return None


class VinDr(Target):
    name = 'vindr_converter'

    def setup(self, tmp: Path) -> None:
        d = tmp / 'vindr_seeds'
        d.mkdir(parents=True, exist_ok=True)
        with fixed_uids():
            self.dicoms = self._dicoms(d)
        self.others = dicom_seeds(tmp / 'dicom_seeds')
        self.csv = '\n'.join((VINDR_HEADER,) + VINDR_ROWS) + '\n'

    @staticmethod
    def _dicoms(d: Path) -> Dict[str, bytes]:
        from anomed_mmdet.testing import write_dicom
        return {
            'img_a': Path(write_dicom(d / 'a.dcm', ramp(64, 64), photometric='MONOCHROME1',
                                      window=(2048, 2048))).read_bytes(),
            'img_b': Path(write_dicom(d / 'b.dcm', ramp(40, 48))).read_bytes(),
            'img_c': Path(write_dicom(d / 'c.dcm', ramp(64, 64), rescale=(2, -100))).read_bytes(),
        }

    def make(self, rng, case):
        root = case / 'vindr'
        (root / 'train').mkdir(parents=True)
        what = rng.choice(('dicom', 'dicom', 'csv', 'csv', 'both'))
        descs = []
        bad = rng.choice(sorted(self.dicoms))
        for image_id, data in self.dicoms.items():
            ext = rng.choice(('.dicom', '.dcm'))
            if image_id == bad and what in ('dicom', 'both'):
                data, d = M.mutate_dicom(rng, data, rng.choice(list(self.others.values())))
                descs.append(f'{image_id}: {d}')
            (root / 'train' / f'{image_id}{ext}').write_bytes(data)
        csv = case / 'train.csv'
        if what in ('csv', 'both'):
            raw, d = M.mutate_csv(rng, self.csv)
            descs.append(d)
        else:
            raw = self.csv.encode()
        csv.write_bytes(raw)
        return (root, csv), '; '.join(descs)

    def call(self, rng, case, made):
        from anomed_mmdet.datasets.converters.common import StrictModeError
        from anomed_mmdet.datasets.converters.vindr import PRESETS, convert_vindr
        root, csv = made
        out = case / 'out'
        classes = rng.choice((PRESETS['paper5'], ('Nodule/Mass', 'Cardiomegaly')))
        try:
            convert_vindr(str(root), str(out), 'train', csv_path=str(csv), classes=classes,
                          fusion=rng.choice(('wbf', 'none')), max_size=rng.choice((None, None, 32)),
                          png16=rng.random() < 0.3, voi=rng.choice(('auto', 'minmax')), workers=1,
                          verbose=False)
        except Exception as exc:  # noqa: BLE001
            return named_by_message(exc, (str(csv), str(root)), (ValueError, OSError, StrictModeError))
        bad = check_coco_output(out / 'annotations' / 'train.json', out / 'images', 'header')
        if bad is not None:
            return bad
        report = json.loads((out / 'conversion_report_train.json').read_text())
        return valid('with skips' if report['skips'] else 'clean')


# --------------------------------------------------------------------------------------- TBX11K

def voc(objects, size=(64, 48)) -> str:
    objs = ''.join(f'<object><name>{n}</name><pose>Unspecified</pose><bndbox><xmin>{b[0]}</xmin>'
                   f'<ymin>{b[1]}</ymin><xmax>{b[2]}</xmax><ymax>{b[3]}</ymax></bndbox></object>'
                   for n, b in objects)
    return (f'<annotation><folder>tb</folder><filename>x.png</filename><size><width>{size[0]}</width>'
            f'<height>{size[1]}</height><depth>3</depth></size>{objs}</annotation>')


class TBX11K(Target):
    name = 'tbx11k_converter'

    IMAGES = ('tb/tb1.png', 'tb/tb2.png', 'health/h1.png', 'sick/s1.png', 'test/t1.png')

    def setup(self, tmp: Path) -> None:
        img = ramp(48, 64, 256).astype(np.uint8)
        self.png = png_bytes(np.dstack([img] * 3))
        self.jpeg = png_bytes(np.dstack([img] * 3), '.jpg')
        self.xml = {'tb1': voc([('ActiveTuberculosis', (10, 12, 30, 40)),
                                ('ObsoletePulmonaryTuberculosis', (40, 5, 60, 20))]),
                    'tb2': voc([('PulmonaryTuberculosis', (5, 5, 15, 15)), ('ActiveTuberculosis', (50, 30, 64.5, 47))]),
                    's1': voc([])}
        self.list = '\n'.join(self.IMAGES) + '\n'

    def make(self, rng, case):
        root = case / 'TBX11K'
        pngs = {rel: self.png for rel in self.IMAGES}
        xmls = {k: v.encode() for k, v in self.xml.items()}
        lst = self.list.encode()
        descs = []
        for _ in range(rng.choice((1, 1, 2, 3))):
            what = rng.choice(('xml', 'xml', 'xml', 'list', 'png'))
            if what == 'xml':
                k = rng.choice(sorted(xmls))
                xmls[k], d = M.mutate_xml(rng, xmls[k].decode('utf-8', 'replace'))
                descs.append(f'{k}.xml {d}')
            elif what == 'list':
                lst, d = M.mutate_list(rng, lst.decode('utf-8', 'replace'), self.IMAGES)
                descs.append(d)
            else:
                k = rng.choice(self.IMAGES)
                pngs[k], d = M.mutate_png(rng, pngs[k], self.jpeg)
                descs.append(f'{k} {d}')
        for rel, data in pngs.items():
            p = root / 'imgs' / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
        x = root / 'annotations' / 'xml'
        x.mkdir(parents=True)
        for k, data in xmls.items():
            (x / f'{k}.xml').write_bytes(data)
        (root / 'lists').mkdir()
        (root / 'lists' / 'TBX11K_train.txt').write_bytes(lst)
        return root, '; '.join(descs)

    def call(self, rng, case, root):
        from anomed_mmdet.datasets.converters.common import StrictModeError
        from anomed_mmdet.datasets.converters.tbx11k import convert_tbx11k
        out = case / 'out'
        lst = root / 'lists' / 'TBX11K_train.txt'
        try:
            res = convert_tbx11k(str(root), str(out), uncertain=rng.choice(('skip', 'active', 'obsolete')),
                                 clip_tolerance=rng.choice((0.0, 0.02, 0.5)), verbose=False)
        except Exception as exc:  # noqa: BLE001
            return named_by_message(exc, (str(lst), str(root)), (ValueError, OSError, StrictModeError))
        # the converter reads image headers only: entries and boxes must be clean, pixels unchecked
        bad = check_coco_output(out / 'TBX11K_train.json', root / 'imgs', 'none')
        if bad is not None:
            return bad
        return valid('with skips' if res['skipped'] else 'clean')


# ------------------------------------------------------------------------- COCO json readers

COCO_SIZE = 32


def coco_seed() -> dict:
    images = [dict(id=i, file_name=f'{i}.png', width=COCO_SIZE, height=COCO_SIZE) for i in (1, 2, 3)]
    anns = [dict(id=1, image_id=1, category_id=1, bbox=[4, 4, 10, 8], area=80, iscrowd=0),
            dict(id=2, image_id=2, category_id=2, bbox=[10, 12, 6, 6], area=36, iscrowd=0),
            dict(id=3, image_id=2, category_id=1, bbox=[1, 1, 5, 5], area=25, iscrowd=0, segmentation=[]),
            dict(id=4, image_id=1, category_id=2, bbox=[20.5, 3.25, 11.5, 9], area=103.5, iscrowd=0)]
    return dict(info=dict(description='fuzz seed'), images=images, annotations=anns,
                categories=[dict(id=1, name='nodule', supercategory='lesion'), dict(id=2, name='mass')])


class CocoCase(Target):
    """Shared by CheckedCocoDataset and check_dataset.py: a mutated ann.json next to 3 PNGs."""

    def setup(self, tmp: Path) -> None:
        rng = np.random.default_rng(0)
        self.pngs = [png_bytes(rng.integers(0, 255, (COCO_SIZE, COCO_SIZE), dtype=np.uint8)) for _ in range(3)]
        self.seed = coco_seed()

    def make(self, rng, case):
        img_dir = case / 'images'
        img_dir.mkdir()
        for i, data in enumerate(self.pngs, 1):
            (img_dir / f'{i}.png').write_bytes(data)
        data, descs = self.seed, []
        for _ in range(rng.choice((1, 1, 2, 3))):
            data, d = M.mutate_coco(rng, data)
            descs.append(d)
        raw, d = M.dump_coco(rng, data)
        ann = case / 'ann.json'
        ann.write_bytes(raw)
        return ann, ' + '.join(descs) + d


def bad_data_kind(msg: str) -> str:
    m = re.search(r'by kind: ([a-z_]+)', msg)
    if m:
        return m.group(1)
    for key, kind in (('not a readable json', 'not_json'), ('not a COCO', 'not_coco'),
                      ('cannot load image', 'image_load'), ('could not be loaded', 'image_load'),
                      ('could be loaded', 'image_load'),
                      ('no image left', 'no_image_left')):
        if key in msg:
            return kind
    return 'other'


class CheckedCoco(CocoCase):
    name = 'CheckedCocoDataset'

    def setup(self, tmp: Path) -> None:
        super().setup(tmp)
        import anomed_mmdet  # noqa: F401
        from mmengine.registry import init_default_scope
        init_default_scope('mmdet')

    def call(self, rng, case, ann):
        from mmdet.registry import DATASETS

        from anomed_mmdet.datasets.data_checks import IMAGE_LEVELS, BadDataError
        mode = rng.choice(('error', 'skip'))
        test_mode = rng.random() < 0.3
        pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations', with_bbox=True),
                    dict(type='PackDetInputs')]
        try:
            ds = DATASETS.build(dict(
                type='CheckedCocoDataset', data_root=str(case), ann_file='ann.json', data_prefix=dict(img='images/'),
                metainfo=dict(classes=('nodule', 'mass')), test_mode=test_mode, pipeline=pipeline,
                filter_cfg=None if test_mode else dict(filter_empty_gt=rng.random() < 0.5, min_size=rng.choice((0, 4))),
                on_bad_data=mode, check_images=rng.choice(IMAGE_LEVELS)))
            n = len(ds)
            for i in range(n):
                item = ds[i]
                boxes = item['data_samples'].gt_instances.bboxes
                t = boxes.tensor if hasattr(boxes, 'tensor') else boxes
                if t.numel() and not bool(t.isfinite().all()):
                    return failure('invalid_result', f'non-finite gt box in item {i}')
        except BadDataError as exc:  # naming the json, or (at run time) the image file
            if not any(n in str(exc) for n in (str(ann), 'ann.json', 'cannot load image')):
                return failure('unnamed:BadDataError', str(exc)[:300])
            return named(bad_data_kind(str(exc)), str(exc)[:200])
        except Exception as exc:  # noqa: BLE001
            return unexpected(exc)
        return valid(f'{mode}: {n} images')


def load_tool(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class CheckDataset(CocoCase):
    name = 'check_dataset.py'

    def setup(self, tmp: Path) -> None:
        super().setup(tmp)
        self.tool = load_tool(REPO / 'tools/misc/check_dataset.py', 'fuzz_check_dataset')

    def call(self, rng, case, ann):
        from anomed_mmdet.datasets.data_checks import IMAGE_LEVELS
        out = io.StringIO()
        argv = [str(ann), str(case / 'images'), '--level', rng.choice(IMAGE_LEVELS), '--no-progress',
                '--max-print', '20']
        try:
            with contextlib.redirect_stdout(out):
                rc = self.tool.main(argv)
        except SystemExit as exc:
            return failure('exception:SystemExit', str(exc.code))
        except Exception as exc:  # noqa: BLE001
            return unexpected(exc)
        text = out.getvalue()
        if rc == 0:
            return valid() if 'OK: no problem found' in text else failure('invalid_result', text[-300:])
        if rc != 1:
            return failure('invalid_result', f'exit status {rc!r}')
        if str(ann) not in text:
            return failure('unnamed:exit 1', text[-300:])
        m = re.search(r'^\[([a-z_]+)\]', text, flags=re.M)
        return named(m.group(1) if m else bad_data_kind(text), text[:200])


# ------------------------------------------------------------------------------ infer (folders)

class InferFolder(Target):
    """``tools/infer.py CONFIG CKPT FOLDER`` minus its argument parsing: ``run_inference`` on a
    folder holding a mutated DICOM (and sometimes a mutated PNG), with a random-weight model."""

    name = 'infer.py folder'

    def setup(self, tmp: Path) -> None:
        import torch

        from anomed_mmdet.apis import init_xray_detector
        from tests.inference_helpers import PLAIN_CFG, build_model, save_checkpoint
        torch.set_num_threads(1)
        tmp.mkdir(parents=True, exist_ok=True)
        ckpt = save_checkpoint(build_model(PLAIN_CFG), tmp / 'plain.pth')
        self.model = init_xray_detector(str(PLAIN_CFG), str(ckpt), device='cpu')
        self.seeds = dicom_seeds(tmp / 'dicom_seeds')
        img = ramp(48, 64, 256).astype(np.uint8)
        self.png, self.jpeg = png_bytes(img), png_bytes(img, '.jpg')

    def make(self, rng, case):
        folder = case / 'in'
        folder.mkdir()
        descs = [mutated_dicom(rng, self.seeds, folder / 'scan.dcm')]
        if rng.random() < 0.3:
            data, d = M.mutate_png(rng, self.png, self.jpeg)
            (folder / 'chest.png').write_bytes(data)
            descs.append(d)
        return folder, '; '.join(descs)

    def call(self, rng, case, folder):
        from anomed_mmdet.apis import run_inference
        out = case / 'out'
        files = sorted(p for p in folder.iterdir())
        try:
            summary = run_inference(self.model, [str(folder)], str(out), score_thr=rng.choice((0.0, 0.3)),
                                    overlay=rng.random() < 0.3, log=lambda *a, **k: None)
        except Exception as exc:  # noqa: BLE001
            return unexpected(exc)
        if not (out / 'results.json').is_file():
            return failure('invalid_result', 'no results.json')
        if len(summary['results']) + len(summary['errors']) != len(files):
            return failure('invalid_result', f'{len(files)} files, {len(summary["results"])} results, '
                           f'{len(summary["errors"])} errors')
        for err in summary['errors']:
            if err['file'] not in err['error']:
                return failure('unnamed:ImageReadError', err['error'][:300])
        for rec in summary['results']:
            for det in rec['detections']:
                x1, y1, x2, y2 = det['bbox']
                if not (0 <= x1 <= x2 <= rec['width'] and 0 <= y1 <= y2 <= rec['height']):
                    return failure('invalid_result', f'box {det["bbox"]} outside {rec["width"]}x{rec["height"]}')
        if summary['errors']:
            reason = summary['errors'][0]['error'].split(': ', 1)[-1]
            return named(dicom_kind(reason) if 'scan.dcm' in summary['errors'][0]['file'] else 'image', reason[:200])
        return valid()


TARGETS: Dict[str, Callable[[], Target]] = {
    t.name: t for t in (ReadDicom, LoadDicom, VinDr, TBX11K, CheckedCoco, CheckDataset, InferFolder)}


class _SelfTest(Target):
    """Readers that misbehave on purpose, to show the runner catches each kind of failure."""

    def __init__(self, how: str) -> None:
        self.name, self.how = f'selftest:{how}', how

    def make(self, rng, case):
        return None, self.how

    def call(self, rng, case, made):
        import os
        import time
        if self.how == 'ok':
            return valid()
        if self.how == 'hang':
            time.sleep(3600)
        if self.how == 'crash':
            os.abort()
        if self.how == 'huge_allocation':  # past the address-space cap: MemoryError
            np.ones(64 << 30, np.uint8)
        if self.how == 'resident':  # under the cap, over the resident bound
            a = np.ones(700 << 20, np.uint8)
            return valid(str(int(a[-1])))
        raise KeyError('an unexpected exception')


SELF_TESTS: Dict[str, Callable[[], Target]] = {
    f'selftest:{how}': (lambda how=how: _SelfTest(how))
    for how in ('ok', 'hang', 'crash', 'huge_allocation', 'resident', 'exception')}
