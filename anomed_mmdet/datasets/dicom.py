"""Read a DICOM radiograph into a display-ready 8/16-bit grayscale array.

One function, :func:`read_dicom`, shared by the data set converters and the
``LoadDicomFromFile`` pipeline transform, so that training-time loading and offline
conversion give the same pixels. Steps:

1. Modality LUT (*Rescale Slope/Intercept* or *Modality LUT Sequence*).
2. VOI: the *VOI LUT Sequence* or *Window Center/Width* when present (``voi='auto'``
   prefers the LUT, ``'window'`` the window), else the min-max of the image
   (``voi='minmax'`` forces min-max). The output range of the LUT/window (not of the
   image) is mapped to [0, 1], so windowing clips as a viewer does. LUTs go through
   ``pydicom.pixels.apply_modality_lut`` / ``apply_voi_lut``; rescale and windows
   (LINEAR, LINEAR_EXACT, SIGMOID) are computed here in float32 with the same formulas
   (tests compare them with pydicom), faster than pydicom's float64 masks (timings:
   docs/datasets.md, "Converter speed").
   An invalid window (e.g. width < 1) falls back to min-max with a warning.
3. ``MONOCHROME1`` is inverted so that bone is bright, as in ``MONOCHROME2``.
4. Scaled to ``uint8`` (0..255), ``uint16`` (0..65535) or ``float32`` (0..1).

Colour images (RGB / YBR) are converted to luminance and min-max scaled. Multi-frame
files are rejected unless ``frame`` selects one: a chest radiograph has one frame, and
silently taking the first of a series could pair labels with the wrong image.

Every failure raises :class:`DicomReadError` (a ``ValueError``) naming the file and the
reason: unreadable/truncated file, no pixel data, a compressed transfer syntax without an
installed decoder (with the packages to install), multi-frame, unsupported photometric
interpretation, an image larger than ``max_pixels``, a header whose elements cannot be
decoded or do not fit together. An unusable VOI LUT/window falls back to min-max (warning).

Memory: the file is read into memory once (element lengths beyond its end allocate nothing),
a deflated data set may not inflate past ``4 * max_pixels`` bytes, and the header's
Rows x Columns x samples x frames is checked against ``max_pixels`` (default
:data:`MAX_PIXELS`, 8192 x 8192) before any pixel is decoded. Peak memory is therefore about
twice the file size plus ~16 bytes per pixel. ``tools/misc/fuzz_inputs.py`` checks all of this
on mutated files.
"""
from __future__ import annotations

import io
import os
import struct
import warnings
import zlib
from typing import Any, BinaryIO, Literal, Optional

import numpy as np

__all__ = ['DicomReadError', 'read_dicom', 'DICOM_SUFFIXES', 'is_dicom_file', 'MAX_PIXELS']

#: Default bound on Rows x Columns x samples x frames: larger headers are rejected before
#: decoding (a chest radiograph has ~3000 x 3000 pixels; a hostile header may claim 65535^2).
MAX_PIXELS = 8192 * 8192
_DEFLATED = '1.2.840.10008.1.2.1.99'
_LONG_VRS = (b'OB', b'OD', b'OF', b'OL', b'OV', b'OW', b'SQ', b'SV', b'UC', b'UN', b'UR', b'UT', b'UV')

#: File name endings treated as DICOM (lower case).
DICOM_SUFFIXES = ('.dcm', '.dicom', '.dic')

VoiMode = Literal['auto', 'window', 'minmax']

# pydicom's plugin labels -> the pip packages a user installs for them.
_INSTALL_HINTS = {
    'pylibjpeg': 'pylibjpeg with pylibjpeg-libjpeg / pylibjpeg-openjpeg / pylibjpeg-rle',
    'gdcm': 'python-gdcm',
    'pyjpegls': 'pyjpegls',
    'pillow': 'pillow (with JPEG/JPEG 2000 support)',
}


class DicomReadError(ValueError):
    """A DICOM file could not be turned into an image; the message names file and reason."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f'{self.path}: {reason}')


def _has_dicm_marker(head: bytes) -> bool:
    """Whether the first bytes of a file hold the Part 10 ``DICM`` marker (at byte 128)."""
    return head[128:132] == b'DICM'


def is_dicom_file(path: Any, suffixes: tuple = DICOM_SUFFIXES, read_marker: bool = False) -> bool:
    """Whether ``path`` is read as DICOM: it ends with one of ``suffixes`` (lower case) or,
    with ``read_marker``, the file holds the ``DICM`` marker (files without a suffix)."""
    if str(path).lower().endswith(tuple(suffixes)):
        return True
    if not read_marker:
        return False
    try:
        with open(path, 'rb') as f:
            return _has_dicm_marker(f.read(132))
    except OSError:
        return False


def _check_decoder(path: str, ds: Any) -> None:
    """Raise a helpful error when the transfer syntax has no usable decoder."""
    from pydicom.pixels import get_decoder
    from pydicom.uid import UID

    tsyntax = getattr(getattr(ds, 'file_meta', None), 'TransferSyntaxUID', None)
    if tsyntax is None:
        return  # pydicom will guess / report itself
    if not isinstance(tsyntax, UID):  # a mis-encoded element (wrong VR) reads as str / bytes
        raise DicomReadError(path, f'invalid Transfer Syntax UID {tsyntax!r}')
    name = f"'{tsyntax.name}' ({tsyntax})" if tsyntax.name != str(tsyntax) else f"'{tsyntax}'"
    try:
        decoder = get_decoder(tsyntax)
    except NotImplementedError:
        raise DicomReadError(path, f'transfer syntax {name} is not supported by pydicom') from None
    if decoder.is_available:
        return
    missing = decoder.missing_dependencies
    hints = sorted({_INSTALL_HINTS.get(m.split(' - ')[0], m.split(' - ')[0]) for m in missing})
    detail = '; '.join(missing) if missing else 'no decoder plugin'
    raise DicomReadError(
        path, f'compressed transfer syntax {name} needs a decoder that is not installed '
        f'(pip install one of: {", ".join(hints) or "pylibjpeg, python-gdcm"}; pydicom says: {detail})')


def _voi_bounds(ds: Any) -> tuple[float, float]:
    """Output range of the VOI LUT: the values that map to black and white."""
    from pydicom.pixels import apply_voi_lut

    desc = ds.VOILUTSequence[0].LUTDescriptor
    first, n = int(desc[1]), int(desc[0]) or 2**16
    probe = np.array([first - 1, first + n], dtype=np.int64)  # below and above the table
    out = apply_voi_lut(probe, ds, prefer_lut=True).astype(np.float64)
    return float(out.min()), float(out.max())


def _first(elem: Any) -> float:
    """First value of a possibly multi-valued DS element."""
    return float(elem.value[0] if elem.VM > 1 else elem.value)


def _window_unit(arr: np.ndarray, ds: Any) -> Optional[np.ndarray]:
    """Window Center/Width (PS3.3 C.11.2.1.2) straight to [0, 1] in float32.

    The same mapping as ``pydicom.pixels.apply_windowing`` followed by scaling its output
    range to [0, 1] (checked in the tests), without pydicom's float64 masks (timings:
    docs/datasets.md). ``None`` when the window is invalid for its function.
    """
    func = str(ds.get('VOILUTFunction', 'LINEAR') or 'LINEAR').strip().upper()
    center, width = _first(ds['WindowCenter']), _first(ds['WindowWidth'])
    if not (np.isfinite(center) and np.isfinite(width)):
        return None
    unit = arr.astype(np.float32)  # a copy: modified in place below
    if func == 'LINEAR':
        if width < 1:
            return None
        center, width = center - 0.5, width - 1
        if width == 0:
            return (unit > center).astype(np.float32)
    elif func == 'LINEAR_EXACT':
        if width <= 0:
            return None
    elif func == 'SIGMOID':
        if width <= 0:
            return None
        unit -= np.float32(center)
        unit *= np.float32(-4.0 / width)
        with np.errstate(over='ignore'):  # exp -> inf gives 0, as it should
            np.exp(unit, out=unit)
        unit += 1
        return np.reciprocal(unit, out=unit)
    else:
        return None
    unit -= np.float32(center)
    unit *= np.float32(1.0 / width)
    unit += np.float32(0.5)
    return np.clip(unit, 0, 1, out=unit)


def _to_unit(arr: np.ndarray, ds: Any, voi: VoiMode) -> tuple[np.ndarray, str]:
    """Modality LUT + VOI, returning float32 in [0, 1] and the VOI step used."""
    from pydicom.pixels import apply_modality_lut, apply_voi_lut

    if ds.get('ModalityLUTSequence'):
        arr = apply_modality_lut(arr, ds)
    elif 'RescaleSlope' in ds or 'RescaleIntercept' in ds:
        # what apply_modality_lut does, in float32 (exact for <= 24-bit stored values)
        slope = float(ds.get('RescaleSlope', 1) if ds.get('RescaleSlope') is not None else 1)
        intercept = float(ds.get('RescaleIntercept', 0) if ds.get('RescaleIntercept') is not None else 0)
        if not (np.isfinite(slope) and np.isfinite(intercept)):
            raise ValueError(f'non-finite RescaleSlope {slope} / RescaleIntercept {intercept}')
        if slope != 1 or intercept != 0:
            arr = arr.astype(np.float32)
            arr *= np.float32(slope)
            arr += np.float32(intercept)

    has_lut = bool(ds.get('VOILUTSequence')) and all(
        ds.VOILUTSequence[0].get(k) is not None for k in ('LUTDescriptor', 'LUTData'))
    has_window = ds.get('WindowCenter') is not None and ds.get('WindowWidth') is not None
    step = 'minmax'
    if voi != 'minmax' and (has_lut or has_window):
        use_lut = has_lut and (voi == 'auto' or not has_window)
        try:
            if not use_lut:
                unit = _window_unit(arr, ds)
                if unit is not None:
                    return unit, 'window'
                raise ValueError('invalid Window Center/Width for its VOI LUT Function')
            src = arr
            if not np.issubdtype(src.dtype, np.integer):
                src = np.rint(src).astype(np.int64)  # a LUT is indexed by integer values
            lo, hi = _voi_bounds(ds)
            out = apply_voi_lut(src, ds, prefer_lut=True)
            if hi > lo:
                res = (out.astype(np.float32) - np.float32(lo)) / np.float32(hi - lo)
                return np.clip(res, 0, 1, out=res), 'lut'
        except MemoryError:
            raise
        except Exception as exc:  # noqa: BLE001  (a broken LUT / window: struct.error, KeyError, ...)
            warnings.warn(f'VOI LUT/window unusable ({type(exc).__name__}: {exc}); using min-max instead')
    arr = arr.astype(np.float32, copy=False)
    lo, hi = float(arr.min()), float(arr.max())
    if hi <= lo:
        return np.zeros(arr.shape, np.float32), step
    return (arr - np.float32(lo)) / np.float32(hi - lo), step


def read_dicom(path: str | os.PathLike | BinaryIO,
               *,
               voi: VoiMode = 'auto',
               out_dtype: type | np.dtype = np.uint8,
               frame: int | None = None,
               return_meta: bool = False,
               max_pixels: int = MAX_PIXELS) -> np.ndarray | tuple[np.ndarray, dict]:
    """Read a DICOM file into an HxW grayscale array (bone bright).

    Args:
        path: the DICOM file (a path, or an open binary file such as ``io.BytesIO``).
        voi: ``'auto'`` (VOI LUT Sequence, else Window Center/Width, else min-max),
            ``'window'`` (prefer the window over the LUT) or ``'minmax'`` (ignore both).
        out_dtype: ``np.uint8`` (0..255), ``np.uint16`` (0..65535) or ``np.float32`` (0..1).
        frame: for multi-frame files, the frame to take; ``None`` rejects them.
        return_meta: also return a dict with ``shape`` (rows, cols), ``photometric``,
            ``pixel_spacing`` (row, col mm or ``None``), ``bits_stored``,
            ``transfer_syntax``, ``num_frames`` and ``voi`` (``'lut'|'window'|'minmax'``).
        max_pixels: largest Rows x Columns x samples x frames decoded (see the module
            docstring); bigger headers raise before any pixel is decoded.

    Raises:
        DicomReadError: unreadable or truncated file, no pixel data, missing decoder,
            multi-frame without ``frame``, unsupported photometric interpretation, too
            large, undecodable or inconsistent header elements.
    """
    src = path
    path = getattr(src, 'name', '<DICOM bytes>') if hasattr(src, 'read') else os.fspath(src)
    out_dtype = np.dtype(out_dtype)
    if out_dtype not in (np.dtype(np.uint8), np.dtype(np.uint16), np.dtype(np.float32)):
        raise ValueError(f'out_dtype must be uint8, uint16 or float32, not {out_dtype}')
    if voi not in ('auto', 'window', 'minmax'):
        raise ValueError(f"voi must be 'auto', 'window' or 'minmax', not {voi!r}")
    try:
        if hasattr(src, 'read'):
            data = src.read()
        else:
            with open(path, 'rb') as f:
                data = f.read()
    except FileNotFoundError:
        raise
    except OSError as exc:  # a folder, no permission, an I/O error
        raise DicomReadError(path, f'cannot read the file ({type(exc).__name__}: {exc})') from exc
    ds = _parse(path, data, max_pixels)
    del data
    try:
        return _decode(path, ds, voi, out_dtype, frame, return_meta, max_pixels)
    except (DicomReadError, MemoryError):
        raise
    except Exception as exc:  # noqa: BLE001  (pydicom decodes elements lazily, on first access:
        # a mis-encoded element raises struct.error, TypeError, KeyError, ... only here)
        raise DicomReadError(path, f'corrupt or inconsistent header elements '
                             f'({type(exc).__name__}: {exc})') from exc


def _parse(path: str, data: bytes, max_pixels: int) -> Any:
    """``pydicom.dcmread`` on the bytes of the file, with the deflate bound."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    _check_deflated_size(path, data, 4 * max_pixels)
    try:
        # from memory: an element length past the end of the file reads what is there
        # (a file object would first allocate the claimed length, up to 4 GiB)
        return pydicom.dcmread(io.BytesIO(data))
    except InvalidDicomError as exc:
        raise DicomReadError(path, f'not a valid DICOM file ({exc})') from exc
    except MemoryError:
        raise
    except Exception as exc:  # truncated headers raise EOFError, struct/OSError, ...
        raise DicomReadError(path, f'truncated or corrupt DICOM ({type(exc).__name__}: {exc})') from exc


def _check_deflated_size(path: str, data: bytes, limit: int) -> None:
    """Refuse a deflated data set that inflates past ``limit`` bytes (pydicom inflates it whole)."""
    if not _has_dicm_marker(data):
        return
    # the file meta group (explicit VR little endian), read as pydicom does: while group 2
    pos, tsyntax = 132, None
    while pos + 12 <= len(data):
        group, elem = struct.unpack('<HH', data[pos:pos + 4])
        if group != 2:
            break
        if data[pos + 4:pos + 6] in _LONG_VRS:
            length, value = struct.unpack('<I', data[pos + 8:pos + 12])[0], pos + 12
        else:
            length, value = struct.unpack('<H', data[pos + 6:pos + 8])[0], pos + 8
        if elem == 0x10:
            tsyntax = data[value:value + length].rstrip(b'\0 ').decode('ascii', 'replace')
        pos = value + length
    if tsyntax != _DEFLATED:
        return
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    size, chunk = 0, 1 << 20
    try:
        for i in range(pos, len(data), chunk):
            buf = data[i:i + chunk]
            while buf:
                size += len(inflater.decompress(buf, 1 << 24))
                if size > limit:
                    raise DicomReadError(path, f'deflated data set too large (inflates past {limit} bytes)')
                buf = inflater.unconsumed_tail
    except zlib.error:
        return  # dcmread reports the broken stream


def _check_size(path: str, ds: Any, num_frames: int, max_pixels: int) -> None:
    """Refuse a header whose image is larger than ``max_pixels`` before decoding it."""
    dims = {}
    for key in ('Rows', 'Columns', 'SamplesPerPixel'):
        value = ds.get(key)
        if value is None:
            continue  # pydicom names the missing element
        try:
            dims[key] = int(value)
        except (TypeError, ValueError, OverflowError):
            raise DicomReadError(path, f'invalid {key} {value!r}') from None
    n = dims.get('Rows', 1) * dims.get('Columns', 1) * max(dims.get('SamplesPerPixel', 1), 1) * max(num_frames, 1)
    if n > max_pixels:
        raise DicomReadError(path, f'image too large: the header claims {num_frames} frame(s) of '
                             f'{dims.get("Rows")} x {dims.get("Columns")} x {dims.get("SamplesPerPixel", 1)} '
                             f'samples = {n} values (max_pixels={max_pixels})')


def _spacing(ds: Any) -> Optional[tuple]:
    spacing = ds.get('PixelSpacing') or ds.get('ImagerPixelSpacing')
    try:
        values = tuple(float(v) for v in spacing) if spacing else ()
    except (TypeError, ValueError):
        return None
    return values if len(values) == 2 and all(np.isfinite(values)) else None


def _frame_count(path: str, ds: Any, frame: Optional[int]) -> int:
    """``NumberOfFrames`` (1 when absent or unreadable); ``frame`` must pick one of several."""
    try:
        num_frames = int(ds.get('NumberOfFrames', 1) or 1)
    except (TypeError, ValueError):
        num_frames = 1
    if num_frames > 1 and frame is None:
        raise DicomReadError(path, f'multi-frame DICOM ({num_frames} frames); '
                             'pass frame=<index> to take one')
    if frame is not None and not 0 <= frame < num_frames:
        raise DicomReadError(path, f'frame {frame} out of range (file has {num_frames})')
    return num_frames


def _pixel_array(path: str, ds: Any) -> np.ndarray:
    """pydicom's decoded pixels; a decoding failure is a :class:`DicomReadError`."""
    try:
        return ds.pixel_array
    except MemoryError:
        raise
    except Exception as exc:  # short pixel data, broken codestream, ...
        kind = 'truncated or corrupt pixel data'
        tsyntax = getattr(getattr(ds, 'file_meta', None), 'TransferSyntaxUID', None)
        if tsyntax is not None and tsyntax.is_compressed:
            kind = f"corrupt '{tsyntax.name}' compressed pixel data"
        raise DicomReadError(path, f'{kind} ({type(exc).__name__}: {exc})') from exc


def _unit_image(path: str, ds: Any, arr: np.ndarray, photometric: str,
                voi: VoiMode) -> tuple[np.ndarray, str]:
    """One frame as float32 in [0, 1] (bone bright) and the intensity step applied."""
    if photometric.startswith('MONOCHROME'):
        if arr.ndim != 2:
            raise DicomReadError(path, f'expected a 2-D grayscale frame, got shape {arr.shape}')
        unit, step = _to_unit(arr, ds, voi)
        if photometric == 'MONOCHROME1':
            unit = 1.0 - unit
        return unit, step
    # pydicom returns RGB for RGB and YBR_* by default
    if arr.ndim != 3:  # e.g. frames pydicom found in surplus pixel data
        raise DicomReadError(path, f'expected a 2-D colour frame (rows, cols, samples), got shape {arr.shape}')
    lum = arr[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    lo, hi = float(lum.min()), float(lum.max())
    unit = (lum - lo) / (hi - lo) if hi > lo else np.zeros(lum.shape, np.float32)
    return unit, 'minmax'


def _decode(path: str, ds: Any, voi: VoiMode, out_dtype: np.dtype, frame: Optional[int],
            return_meta: bool, max_pixels: int) -> np.ndarray | tuple[np.ndarray, dict]:
    if 'PixelData' not in ds:
        raise DicomReadError(path, 'no pixel data (PixelData tag missing; '
                             'a file cut short before its pixels reads the same)')
    photometric = str(ds.get('PhotometricInterpretation', 'MONOCHROME2')).upper()
    if photometric not in ('MONOCHROME1', 'MONOCHROME2', 'RGB') and not photometric.startswith('YBR'):
        raise DicomReadError(path, f'unsupported photometric interpretation {photometric}')
    num_frames = _frame_count(path, ds, frame)
    _check_size(path, ds, num_frames, max_pixels)
    _check_decoder(path, ds)
    arr = _pixel_array(path, ds)
    if num_frames > 1:
        arr = arr[frame]
    unit, step = _unit_image(path, ds, arr, photometric, voi)
    if not np.isfinite(unit.sum()):  # NaN / inf anywhere (unit is in [0, 1] otherwise), e.g.
        # a Rescale Slope so large that float32 values overflow
        raise DicomReadError(path, 'pixel values not finite after the modality LUT / rescale '
                             f'(RescaleSlope {ds.get("RescaleSlope")!r}, RescaleIntercept '
                             f'{ds.get("RescaleIntercept")!r})')

    if out_dtype == np.float32:
        img = unit.astype(np.float32, copy=False)
    else:
        top = np.iinfo(out_dtype).max
        img = np.rint(unit * np.float32(top)).astype(out_dtype)
    if not return_meta:
        return img
    meta = dict(
        shape=(int(img.shape[0]), int(img.shape[1])),
        photometric=photometric,
        pixel_spacing=_spacing(ds),
        bits_stored=int(ds.get('BitsStored', 0) or 0),
        transfer_syntax=str(getattr(ds.file_meta, 'TransferSyntaxUID', '')) if hasattr(ds, 'file_meta') else '',
        num_frames=num_frames,
        voi=step,
    )
    return img, meta
