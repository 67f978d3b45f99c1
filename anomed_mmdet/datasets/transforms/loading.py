"""Loading transforms: ``CheckedLoadImageFromFile`` (failures name the file, or skip it) and
``LoadDicomFromFile`` (mmcv's ``LoadImageFromFile`` that also reads DICOM files)."""
from __future__ import annotations

import io
import logging
from typing import Optional, Sequence

import mmengine.fileio as fileio
import numpy as np
from mmcv.transforms import LoadImageFromFile
from mmdet.registry import TRANSFORMS
from mmengine.logging import print_log

from ..data_checks import ON_BAD_DATA, BadDataError, check_choice
from ..dicom import DICOM_SUFFIXES, DicomReadError, is_dicom_file, read_dicom


@TRANSFORMS.register_module()
class CheckedLoadImageFromFile(LoadImageFromFile):
    """``LoadImageFromFile`` whose failures name the file, or skip it.

    Args:
        on_bad_data: ``'error'`` raises :class:`BadDataError` naming the file and the reason;
            ``'skip'`` logs a warning with the file and a running count, and returns ``None``,
            on which mmengine's ``BaseDataset`` draws another sample (training only: a test
            set cannot drop an image, it raises).
        **kwargs: ``LoadImageFromFile`` arguments.
    """

    def __init__(self, on_bad_data: str = 'error', **kwargs) -> None:
        check_choice('on_bad_data', on_bad_data, ON_BAD_DATA)
        kwargs.setdefault('ignore_empty', False)
        super().__init__(**kwargs)
        self.on_bad_data = on_bad_data
        self.num_skipped = 0

    def transform(self, results: dict) -> Optional[dict]:
        try:
            out = super().transform(results)
            reason = None if out is not None else 'it could not be read'
        except Exception as e:  # noqa: BLE001 - read or decode failure of this one file
            out, reason = None, f'{type(e).__name__}: {e}'
        if reason is None:
            return out
        path = results.get('img_path')
        if self.on_bad_data == 'error':
            raise BadDataError(f'cannot load image {path} ({reason}); tools/misc/check_dataset.py '
                               "lists every such file, on_bad_data='skip' trains without it")
        self.num_skipped += 1
        print_log(f'skipping image {path} ({reason}); {self.num_skipped} image(s) skipped by this '
                  'loader process so far', logger='current', level=logging.WARNING)
        return None


@TRANSFORMS.register_module()
class LoadDicomFromFile(LoadImageFromFile):
    """Load a DICOM (or, by default, any other image) from ``results['img_path']``.

    DICOM files (by suffix, ``.dcm``/``.dicom``/``.dic``) go through
    :func:`~anomed_mmdet.datasets.dicom.read_dicom` (modality LUT, VOI LUT/window,
    MONOCHROME1 inverted); other files through ``LoadImageFromFile`` unless
    ``allow_non_dicom=False``, so one pipeline serves PNG and DICOM folders.

    Required keys: ``img_path``. Added keys: ``img``, ``img_shape``, ``ori_shape``
    (and ``dicom_meta`` when ``with_meta``).

    Args:
        to_float32: cast ``img`` to float32 (values keep the 0..255 / 0..65535 scale).
        color_type: ``'color'`` -> HxWx3 (the gray channel repeated, for ImageNet-style
            backbones), ``'grayscale'`` or ``'unchanged'`` -> HxW. For non-DICOM files it
            is passed to ``mmcv.imfrombytes``.
        bit_depth: 8 (uint8) or 16 (uint16) for DICOM pixels.
        voi: ``read_dicom``'s ``voi`` (``'auto'``, ``'window'``, ``'minmax'``).
        allow_non_dicom: read non-DICOM files with ``LoadImageFromFile``.
        dicom_suffixes: file endings treated as DICOM.
        with_meta: store ``read_dicom``'s metadata in ``results['dicom_meta']``.
        ignore_empty: return ``None`` for unreadable files instead of raising.
        imdecode_backend, backend_args: as in ``LoadImageFromFile``; with a non-local
            backend the DICOM bytes are fetched and read from memory.
    """

    def __init__(self,
                 to_float32: bool = False,
                 color_type: str = 'color',
                 bit_depth: int = 8,
                 voi: str = 'auto',
                 allow_non_dicom: bool = True,
                 dicom_suffixes: Sequence[str] = DICOM_SUFFIXES,
                 with_meta: bool = False,
                 imdecode_backend: str = 'cv2',
                 ignore_empty: bool = False,
                 *,
                 backend_args: Optional[dict] = None) -> None:
        super().__init__(to_float32=to_float32, color_type=color_type,
                         imdecode_backend=imdecode_backend, ignore_empty=ignore_empty,
                         backend_args=backend_args)
        if bit_depth not in (8, 16):
            raise ValueError(f'bit_depth must be 8 or 16, not {bit_depth}')
        if color_type not in ('color', 'grayscale', 'unchanged'):
            raise ValueError(f"color_type must be 'color', 'grayscale' or 'unchanged', not {color_type!r}")
        self.bit_depth = bit_depth
        self.voi = voi
        self.allow_non_dicom = allow_non_dicom
        self.dicom_suffixes = tuple(s.lower() for s in dicom_suffixes)
        self.with_meta = with_meta

    def is_dicom(self, path: str) -> bool:
        """Whether ``path`` is read as DICOM."""
        return is_dicom_file(path, self.dicom_suffixes)

    def _read(self, filename: str) -> tuple[np.ndarray, dict]:
        dtype = np.uint8 if self.bit_depth == 8 else np.uint16
        backend = fileio.get_file_backend(filename, backend_args=self.backend_args)
        if isinstance(backend, fileio.LocalBackend):
            src = filename
        else:
            src = io.BytesIO(fileio.get(filename, backend_args=self.backend_args))
            src.name = str(filename)
        img, meta = read_dicom(src, voi=self.voi, out_dtype=dtype, return_meta=True)
        if self.color_type == 'color':
            img = np.repeat(img[..., None], 3, axis=2)
        return img, meta

    def transform(self, results: dict) -> Optional[dict]:
        """Load the image into ``results``."""
        filename = results['img_path']
        if not self.is_dicom(filename):
            if not self.allow_non_dicom:
                raise ValueError(f'{filename}: not a DICOM file ({"/".join(self.dicom_suffixes)}) '
                                 'and allow_non_dicom=False')
            return super().transform(results)
        try:
            img, meta = self._read(filename)
        except (DicomReadError, OSError):
            if self.ignore_empty:
                return None
            raise
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        if self.with_meta:
            results['dicom_meta'] = meta
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(to_float32={self.to_float32}, '
                f"color_type='{self.color_type}', bit_depth={self.bit_depth}, voi='{self.voi}', "
                f'allow_non_dicom={self.allow_non_dicom}, ignore_empty={self.ignore_empty}, '
                f'backend_args={self.backend_args})')
