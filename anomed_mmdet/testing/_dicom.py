"""Write small uncompressed DICOM radiographs (tests, fuzzing, the DICOM benchmark).

Not a general DICOM writer: one grayscale frame, Explicit VR Little Endian, with the
attributes :func:`~anomed_mmdet.datasets.dicom.read_dicom` looks at.
"""
from __future__ import annotations

import os
from typing import Optional, Sequence

import numpy as np

__all__ = ['write_dicom']


def write_dicom(path: str | os.PathLike,
                pixels: np.ndarray,
                *,
                photometric: str = 'MONOCHROME2',
                bits_stored: int = 12,
                signed: bool = False,
                rescale: tuple[float, float] | None = None,
                window: tuple[float, float] | None = None,
                voi_lut: tuple[int, int, Sequence[int]] | None = None,
                pixel_spacing: tuple[float, float] | None = None,
                transfer_syntax: str | None = None,
                encapsulated: bytes | None = None,
                with_pixels: bool = True,
                num_frames: int = 1,
                extra: Optional[dict] = None) -> str:
    """Write ``pixels`` (HxW, or FxHxW for ``num_frames > 1``) as a DICOM file.

    Args:
        path: output file.
        pixels: stored values (cast to uint16 / int16 with ``bits_stored`` bits).
        photometric: ``'MONOCHROME1'`` or ``'MONOCHROME2'``.
        bits_stored: bits stored (BitsAllocated is 16).
        signed: PixelRepresentation 1 (int16).
        rescale: (slope, intercept) written as RescaleSlope/RescaleIntercept.
        window: (center, width) written as WindowCenter/WindowWidth.
        voi_lut: (first_mapped, bits_per_entry, lut_values) written as a VOI LUT Sequence.
        pixel_spacing: (row, col) spacing in mm.
        transfer_syntax: UID; default Explicit VR Little Endian.
        encapsulated: raw bytes to store as (fake) encapsulated pixel data, for
            compressed transfer syntaxes.
        with_pixels: ``False`` omits the PixelData element.
        num_frames: frames in ``pixels``.
        extra: more attributes by keyword (e.g. ``{'VOILUTFunction': 'SIGMOID'}``).

    Returns:
        The path written.
    """
    ds = _new_dataset(os.fspath(path), transfer_syntax)
    pixels = np.asarray(pixels)
    _set_image_pixel_module(ds, pixels.shape[-2:], photometric, bits_stored, signed, num_frames)
    _set_voi_module(ds, rescale, window, voi_lut)
    if pixel_spacing is not None:
        ds.PixelSpacing = [f'{v:g}' for v in pixel_spacing]
    for key, value in (extra or {}).items():
        setattr(ds, key, value)
    if with_pixels:
        _set_pixel_data(ds, pixels, signed, encapsulated, num_frames)
    ds.save_as(ds.filename, enforce_file_format=True)
    return ds.filename


def _new_dataset(path: str, transfer_syntax: Optional[str]):
    """A Secondary Capture DX data set with fresh UIDs and a Part 10 preamble."""
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = transfer_syntax or ExplicitVRLittleEndian
    ds = FileDataset(path, {}, file_meta=meta, preamble=b'\0' * 128)
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = 'DX'
    ds.PatientID = 'anon'
    return ds


def _set_image_pixel_module(ds, shape: tuple, photometric: str, bits_stored: int, signed: bool,
                            num_frames: int) -> None:
    ds.Rows, ds.Columns = int(shape[0]), int(shape[1])
    if num_frames > 1:
        ds.NumberOfFrames = num_frames
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated = 16
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 1 if signed else 0


def _set_voi_module(ds, rescale, window, voi_lut) -> None:
    """Rescale slope / intercept, window and VOI LUT Sequence, each when given."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence as DicomSequence

    if rescale is not None:
        ds.RescaleSlope, ds.RescaleIntercept = (f'{v:g}' for v in rescale)
    if window is not None:
        ds.WindowCenter, ds.WindowWidth = (f'{v:g}' for v in window)
    if voi_lut is not None:
        first, depth, values = voi_lut
        item = Dataset()
        item.LUTDescriptor = [len(values), first, depth]
        item.LUTData = [int(v) for v in values]
        item['LUTData'].VR = 'US'
        ds.VOILUTSequence = DicomSequence([item])


def _set_pixel_data(ds, pixels: np.ndarray, signed: bool, encapsulated: Optional[bytes],
                    num_frames: int) -> None:
    from pydicom.encaps import encapsulate

    if encapsulated is not None:
        ds.PixelData = encapsulate([encapsulated] * num_frames)
        ds['PixelData'].VR = 'OB'
    else:
        ds.PixelData = pixels.astype('<i2' if signed else '<u2').tobytes()
        ds['PixelData'].VR = 'OW'
