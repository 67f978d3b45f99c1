"""Seeded mutators for hostile inputs: DICOM bytes, CSV / XML / list text, PNG headers, COCO json.

Every mutator takes a ``random.Random`` and returns the mutated input plus a short description
(``'dicom:oversize_length(0028,0010)'``), so a failing case can be named and replayed from
``(seed, reader, index)`` alone. Nothing here reads a file: inputs are bytes or parsed json.
"""
from __future__ import annotations

import copy
import json
import random
import struct
import zlib
from dataclasses import dataclass
from typing import Any, Callable, List, Optional, Sequence, Tuple

# --------------------------------------------------------------------------------------- bytes

#: Values a hostile number field can take (as text).
HOSTILE_NUMBERS = ('', ' ', 'nan', 'NaN', 'inf', '-inf', 'Infinity', '-1', '-0', '0', '1e309', '-1e309',
                   '1e300', '1e-320', '9' * 400, '4294967296', '18446744073709551617', 'abc', '0x10',
                   '1,5', '1.5.3', ' 12 ', '\x00', 'é', '١٢', '--1', '+5', '1e', '.', '1_000')


def bit_flips(rng: random.Random, data: bytes, lo: int = 0, hi: Optional[int] = None) -> Tuple[bytes, str]:
    hi = len(data) if hi is None else min(hi, len(data))
    if hi <= lo:
        return data, 'bit_flips(none)'
    buf = bytearray(data)
    n = rng.choice((1, 1, 2, 4, 8, 32))
    for _ in range(n):
        i = rng.randrange(lo, hi)
        buf[i] ^= 1 << rng.randrange(8)
    return bytes(buf), f'bit_flips({n})'


def insert_bytes(rng: random.Random, data: bytes) -> Tuple[bytes, str]:
    i = rng.randrange(len(data) + 1)
    n = rng.choice((1, 2, 3, 4, 7, 64))
    chunk = bytes(rng.randrange(256) for _ in range(n)) if rng.random() < 0.7 else bytes(n)
    return data[:i] + chunk + data[i:], f'insert_bytes({n}@{i})'


def delete_bytes(rng: random.Random, data: bytes) -> Tuple[bytes, str]:
    if not data:
        return data, 'delete_bytes(empty)'
    i = rng.randrange(len(data))
    n = rng.choice((1, 2, 3, 4, 8, 100))
    return data[:i] + data[i + n:], f'delete_bytes({n}@{i})'


def truncate(rng: random.Random, data: bytes) -> Tuple[bytes, str]:
    n = rng.randrange(len(data) + 1) if data else 0
    return data[:n], f'truncate({n}/{len(data)})'


def splice(rng: random.Random, data: bytes, other: bytes) -> Tuple[bytes, str]:
    if not data or not other:
        return data, 'splice(none)'
    i, j = sorted(rng.randrange(len(data) + 1) for _ in range(2))
    a, b = sorted(rng.randrange(len(other) + 1) for _ in range(2))
    return data[:i] + other[a:b] + data[j:], f'splice({i}:{j}<-{a}:{b})'


def byte_mutation(rng: random.Random, data: bytes, other: Optional[bytes] = None) -> Tuple[bytes, str]:
    """One generic byte mutation."""
    ops: List[Callable] = [bit_flips, insert_bytes, delete_bytes, truncate]
    if other is not None:
        ops.append(lambda r, d: splice(r, d, other))
    return rng.choice(ops)(rng, data)


# --------------------------------------------------------------------------------------- DICOM

LONG_VRS = {b'OB', b'OD', b'OF', b'OL', b'OV', b'OW', b'SQ', b'SV', b'UC', b'UN', b'UR', b'UT', b'UV'}
ALL_VRS = (b'AE', b'AS', b'AT', b'CS', b'DA', b'DS', b'DT', b'FL', b'FD', b'IS', b'LO', b'LT', b'OB', b'OD',
           b'OF', b'OL', b'OV', b'OW', b'PN', b'SH', b'SL', b'SQ', b'SS', b'ST', b'SV', b'TM', b'UC', b'UI',
           b'UL', b'UN', b'UR', b'US', b'UT', b'UV')
UNDEFINED = 0xFFFFFFFF
PIXEL_DATA = 0x7FE00010
TRANSFER_SYNTAX = 0x00020010

#: Attributes read_dicom and pydicom's pixel handling look at, and absurd values for them.
IMAGE_TAGS = {
    0x00280010: 'Rows', 0x00280011: 'Columns', 0x00280100: 'BitsAllocated', 0x00280101: 'BitsStored',
    0x00280102: 'HighBit', 0x00280002: 'SamplesPerPixel', 0x00280103: 'PixelRepresentation',
    0x00280008: 'NumberOfFrames', 0x00280006: 'PlanarConfiguration', 0x00280004: 'PhotometricInterpretation',
    0x00281052: 'RescaleIntercept', 0x00281053: 'RescaleSlope', 0x00281050: 'WindowCenter',
    0x00281051: 'WindowWidth', 0x00281056: 'VOILUTFunction', 0x00280030: 'PixelSpacing',
    0x00181164: 'ImagerPixelSpacing',
}
US_TAGS = (0x00280010, 0x00280011, 0x00280100, 0x00280101, 0x00280102, 0x00280002, 0x00280103, 0x00280006)
DS_TAGS = (0x00281052, 0x00281053, 0x00281050, 0x00281051, 0x00280030, 0x00181164)
ABSURD_US = (0, 1, 2, 3, 7, 9, 12, 17, 31, 33, 63, 64, 65, 255, 256, 32768, 65535)
ABSURD_DS = ('nan', 'inf', '-inf', '1e308', '-1e308', '0', '-0', '-1', '1e-300', 'abc', '', '1\\2\\3',
             '99999999999999999', '0.0000000000001')
TRANSFER_SYNTAXES = (
    '1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.2', '1.2.840.10008.1.2.1.99',
    '1.2.840.10008.1.2.4.50', '1.2.840.10008.1.2.4.51', '1.2.840.10008.1.2.4.57', '1.2.840.10008.1.2.4.70',
    '1.2.840.10008.1.2.4.80', '1.2.840.10008.1.2.4.81', '1.2.840.10008.1.2.4.90', '1.2.840.10008.1.2.4.91',
    '1.2.840.10008.1.2.4.201', '1.2.840.10008.1.2.4.203', '1.2.840.10008.1.2.5', '1.2.840.10008.1.2.4.100',
    '1.2.840.10008.1.2.4.102', '1.2.3.4', 'garbage', '', '1.2.840.10008.1.2.1\x00\x00')
PHOTOMETRICS = ('MONOCHROME1', 'MONOCHROME2', 'RGB', 'YBR_FULL', 'YBR_FULL_422', 'PALETTE COLOR', 'CMYK',
                'monochrome2', '', 'X' * 70, 'MONOCHROME2\\RGB')


@dataclass
class Element:
    """One top-level element of a DICOM byte stream."""

    tag: int
    vr: Optional[bytes]
    start: int          # first byte of the tag
    len_off: int        # offset of the length field
    len_size: int       # 2 or 4
    value_start: int
    end: int            # one past the element (after the sequence delimiter for undefined lengths)
    length: int


class ScanError(ValueError):
    pass


def _header(data: bytes, pos: int, explicit: bool, little: bool):
    e = '<' if little else '>'
    if pos + 8 > len(data):
        raise ScanError('short header')
    group, elem = struct.unpack(e + 'HH', data[pos:pos + 4])
    tag = (group << 16) | elem
    if group == 0xFFFE or not explicit:
        return tag, None, pos + 4, 4, pos + 8, struct.unpack(e + 'I', data[pos + 4:pos + 8])[0]
    vr = data[pos + 4:pos + 6]
    if vr in LONG_VRS:
        if pos + 12 > len(data):
            raise ScanError('short header')
        return tag, vr, pos + 8, 4, pos + 12, struct.unpack(e + 'I', data[pos + 8:pos + 12])[0]
    return tag, vr, pos + 6, 2, pos + 8, struct.unpack(e + 'H', data[pos + 6:pos + 8])[0]


def _skip_undefined(data: bytes, pos: int, explicit: bool, little: bool, depth: int = 0) -> int:
    """End of an undefined-length value starting at ``pos`` (items up to the sequence delimiter)."""
    if depth > 50:
        raise ScanError('too deep')
    while True:
        tag, _, _, _, vstart, length = _header(data, pos, explicit, little)
        if tag == 0xFFFEE0DD:
            return vstart
        if tag != 0xFFFEE000:
            raise ScanError(f'unexpected tag {tag:08x} in a sequence')
        if length != UNDEFINED:
            pos = vstart + length
            continue
        pos = vstart
        while True:  # an undefined-length item: elements up to the item delimiter
            tag, _, _, _, vstart, length = _header(data, pos, explicit, little)
            if tag == 0xFFFEE00D:
                pos = vstart
                break
            pos = (_skip_undefined(data, vstart, explicit, little, depth + 1) if length == UNDEFINED
                   else vstart + length)


def scan(data: bytes, start: int, end: int, explicit: bool, little: bool) -> List[Element]:
    """The top-level elements of ``data[start:end]``."""
    out, pos = [], start
    while pos < end:
        tag, vr, len_off, len_size, vstart, length = _header(data, pos, explicit, little)
        stop = _skip_undefined(data, vstart, explicit, little) if length == UNDEFINED else vstart + length
        if stop > end:
            raise ScanError('element past the end')
        out.append(Element(tag, vr, pos, len_off, len_size, vstart, stop, length))
        pos = stop
    return out


@dataclass
class DicomLayout:
    """A DICOM file split into preamble + meta group and dataset, with their elements."""

    head: bytes                  # preamble + 'DICM' + file meta group
    meta: List[Element]          # offsets into ``head``
    body: bytes                  # the dataset (inflated for the deflated transfer syntax)
    elements: List[Element]      # offsets into ``body``
    explicit: bool
    little: bool
    deflated: bool

    @classmethod
    def parse(cls, data: bytes) -> 'DicomLayout':
        if data[128:132] != b'DICM':
            raise ScanError('no DICM marker')
        # the meta group's length is in its first element (0002,0000)
        meta = scan(data, 132, 132 + 12, True, True)
        (glen,) = struct.unpack('<I', data[meta[0].value_start:meta[0].value_start + 4])
        head_end = meta[0].end + glen
        meta = scan(data, 132, head_end, True, True)
        ts = next((data[e.value_start:e.end] for e in meta if e.tag == TRANSFER_SYNTAX), b'')
        ts = ts.rstrip(b'\x00 ').decode('ascii', 'replace')
        explicit, little = ts != '1.2.840.10008.1.2', ts != '1.2.840.10008.1.2.2'
        deflated = ts == '1.2.840.10008.1.2.1.99'
        body = data[head_end:]
        if deflated:  # bounded: a deflate bomb is not parsed (byte mutations only)
            inflater = zlib.decompressobj(-zlib.MAX_WBITS)
            body = inflater.decompress(body, 16 << 20)
            if inflater.unconsumed_tail:
                raise ScanError('inflates past 16 MB')
        return cls(data[:head_end], meta, body, scan(body, 0, len(body), explicit, little),
                   explicit, little, deflated)

    def assemble(self, head: Optional[bytes] = None, body: Optional[bytes] = None) -> bytes:
        head = self.head if head is None else head
        body = self.body if body is None else body
        if self.deflated:
            comp = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
            body = comp.compress(body) + comp.flush()
        return head + body

    def encode_element(self, tag: int, vr: bytes, value: bytes, explicit: Optional[bool] = None) -> bytes:
        e = '<' if self.little else '>'
        explicit = self.explicit if explicit is None else explicit
        out = struct.pack(e + 'HH', tag >> 16, tag & 0xFFFF)
        if not explicit:
            return out + struct.pack(e + 'I', len(value)) + value
        if vr in LONG_VRS:
            return out + vr + b'\0\0' + struct.pack(e + 'I', len(value)) + value
        return out + vr + struct.pack(e + 'H', min(len(value), 0xFFFF)) + value


def _pad(value: bytes, pad: bytes = b' ') -> bytes:
    return value + pad if len(value) % 2 else value


def _replace(data: bytes, el: Element, new: bytes) -> bytes:
    return data[:el.start] + new + data[el.end:]


def _set_element(lay: DicomLayout, body: bytes, tag: int, new: bytes) -> bytes:
    """Replace the element ``tag`` (or insert it in tag order) in ``body``."""
    for el in lay.elements:
        if el.tag == tag:
            return _replace(body, el, new)
    at = next((el.start for el in lay.elements if el.tag > tag), len(body))
    return body[:at] + new + body[at:]


def _us_bytes(lay: DicomLayout, values: Sequence[int], fmt: str = 'H') -> bytes:
    e = '<' if lay.little else '>'
    return b''.join(struct.pack(e + fmt, v) for v in values)


def with_transfer_syntax(lay: DicomLayout, uid: str, vr: bytes = b'UI') -> bytes:
    """The file with another Transfer Syntax UID in its meta group (the data set unchanged)."""
    ts = next((el for el in lay.meta if el.tag == TRANSFER_SYNTAX), None)
    if ts is None:
        return lay.assemble()
    new_el = struct.pack('<HH', 2, 0x10) + lay.encode_element(TRANSFER_SYNTAX, vr, _pad(uid.encode(), b'\0'),
                                                              explicit=True)[4:]
    if not lay.little:  # the meta group is little endian whatever the data set is
        new_el = new_el[:6] + struct.pack('<H', len(new_el) - 8) + new_el[8:]
    head = _replace(lay.head, ts, new_el)
    glen = sum(el.end - el.start for el in lay.meta[1:]) + len(new_el) - (ts.end - ts.start)
    g0 = lay.meta[0]
    head = head[:g0.value_start] + struct.pack('<I', glen) + head[g0.value_start + 4:]
    raw_body = lay.body if not lay.deflated else lay.assemble()[len(lay.head):]
    return head + raw_body


def with_element(data: bytes, tag: int, vr: bytes, value: bytes) -> bytes:
    """``data`` with the top-level element ``tag`` replaced (or inserted) as raw ``vr`` / ``value``."""
    lay = DicomLayout.parse(data)
    return lay.assemble(body=_set_element(lay, lay.body, tag, lay.encode_element(tag, vr, value)))


def with_length(data: bytes, tag: int, length: int) -> bytes:
    """``data`` with the length field of element ``tag`` overwritten (the value unchanged)."""
    lay = DicomLayout.parse(data)
    el = next(x for x in lay.elements if x.tag == tag)
    e = '<' if lay.little else '>'
    field = struct.pack(e + ('I' if el.len_size == 4 else 'H'), length)
    return lay.assemble(body=lay.body[:el.len_off] + field + lay.body[el.len_off + el.len_size:])


def dicom_structural(rng: random.Random, data: bytes, other: Optional[bytes] = None) -> Tuple[bytes, str]:
    """One structure-aware mutation of a DICOM file (falls back to a byte mutation)."""
    try:
        lay = DicomLayout.parse(data)
    except (ScanError, struct.error, zlib.error, IndexError):
        return byte_mutation(rng, data, other)
    state = rng.getstate()
    try:
        return _structural(rng, lay, data, other)
    except (ScanError, struct.error, zlib.error, IndexError, ValueError, StopIteration):
        rng.setstate(state)  # an operation that does not apply to this (already mutated) layout
        return byte_mutation(rng, data, other)


def _structural(rng: random.Random, lay: DicomLayout, data: bytes, other: Optional[bytes]) -> Tuple[bytes, str]:
    els, body = lay.elements, lay.body
    if not els:
        return byte_mutation(rng, data, other)
    e = '<' if lay.little else '>'
    if lay.deflated and rng.random() < 0.1:
        return deflate_bomb(rng, lay)
    op = rng.choice(('truncate_at_tag', 'truncate_at_tag', 'swap', 'duplicate', 'oversize_length',
                     'wrong_vr', 'drop', 'absurd_value', 'absurd_value', 'absurd_value', 'huge_dims',
                     'absurd_ds', 'photometric', 'pixel_length', 'pixel_length', 'transfer_syntax',
                     'transfer_syntax', 'nested_sequence', 'voi_lut', 'header_bit_flips', 'meta_mutation'))
    name = lambda el: f'({el.tag >> 16:04X},{el.tag & 0xFFFF:04X})'  # noqa: E731
    if op == 'truncate_at_tag':
        el = rng.choice(els)
        cut = el.start + rng.choice((0, 0, 2, 4, 6, 8, 10, 12, (el.end - el.start) // 2))
        full = lay.assemble(body=body[:cut])
        if lay.deflated and rng.random() < 0.5:  # cut the compressed stream instead
            full = lay.assemble()
            full = full[:len(lay.head) + rng.randrange(len(full) - len(lay.head) + 1)]
        return full, f'dicom:truncate_at_tag{name(el)}+{cut - el.start}'
    if op == 'swap' and len(els) > 1:
        i = rng.randrange(len(els) - 1)
        j = i + 1 if rng.random() < 0.6 else rng.randrange(len(els))
        i, j = sorted((i, j))
        if i == j:
            return lay.assemble(), 'dicom:swap(none)'
        a, b = els[i], els[j]
        new = body[:a.start] + body[b.start:b.end] + body[a.end:b.start] + body[a.start:a.end] + body[b.end:]
        return lay.assemble(body=new), f'dicom:swap{name(a)}{name(b)}'
    if op == 'duplicate':
        el = rng.choice(els)
        at = rng.choice((el.end, el.start, rng.choice(els).start, len(body)))
        return lay.assemble(body=body[:at] + body[el.start:el.end] + body[at:]), f'dicom:duplicate{name(el)}'
    if op == 'oversize_length':
        el = rng.choice(els)
        if el.len_size == 2:
            value = rng.choice((0xFFFF, 0xFFFE, el.length + 1, el.length + 2, max(0, el.length - 2), 0))
            new_len = struct.pack(e + 'H', value)
        else:
            value = rng.choice((0xFFFFFFFE, 0xFFFFFFF0, 0x7FFFFFFF, el.length * 1000 + 2, el.length + 2,
                                max(0, el.length - 2), 0, UNDEFINED))
            new_len = struct.pack(e + 'I', value)
        new = body[:el.len_off] + new_len + body[el.len_off + el.len_size:]
        return lay.assemble(body=new), f'dicom:oversize_length{name(el)}={value:#x}'
    if op == 'wrong_vr' and lay.explicit:
        el = rng.choice([x for x in els if x.vr is not None] or els)
        vr = rng.choice(ALL_VRS) if rng.random() < 0.8 else bytes(rng.randrange(256) for _ in range(2))
        if el.vr is None:
            return lay.assemble(), 'dicom:wrong_vr(none)'
        if (vr in LONG_VRS) == (el.vr in LONG_VRS):  # same header size: change the VR only
            new = body[:el.start + 4] + vr + body[el.start + 6:]
        else:  # re-encode the header with the new VR's length field
            value = body[el.value_start:el.end] if el.length != UNDEFINED else b''
            new = _replace(body, el, lay.encode_element(el.tag, vr, value))
        return lay.assemble(body=new), f'dicom:wrong_vr{name(el)}={vr!r}'
    if op == 'drop':
        el = rng.choice(els)
        return lay.assemble(body=_replace(body, el, b'')), f'dicom:drop{name(el)}'
    if op == 'absurd_value':
        tag = rng.choice(US_TAGS + (0x00280008,))
        if tag == 0x00280008:  # NumberOfFrames is IS
            value = rng.choice(('0', '-1', '2', '65536', '99999999', 'x', '1.5', ''))
            new = lay.encode_element(tag, b'IS', _pad(value.encode()))
            return lay.assemble(body=_set_element(lay, body, tag, new)), f'dicom:absurd NumberOfFrames={value!r}'
        value = rng.choice(ABSURD_US)
        vr, raw = b'US', _us_bytes(lay, [value])
        if rng.random() < 0.2:  # wrong VR / multiplicity for a US attribute
            vr, raw = rng.choice(((b'UL', _us_bytes(lay, [value * 70000 % 2**32], 'I')),
                                  (b'SS', _us_bytes(lay, [-1], 'h')), (b'US', _us_bytes(lay, [value, 3])),
                                  (b'US', b'\x01'), (b'IS', _pad(str(value).encode())),
                                  (b'OB', bytes(6)), (b'US', b'')))
        new = lay.encode_element(tag, vr, raw)
        return lay.assemble(body=_set_element(lay, body, tag, new)), \
            f'dicom:absurd {IMAGE_TAGS[tag]}={value} as {vr.decode("latin1")}'
    if op == 'huge_dims':  # a header claiming a 100k x 100k (or 65535 x 65535) image
        big = rng.choice((100000, 65535, 50000, 4294967295))
        vr = b'UL' if big > 65535 else b'US'
        fmt = 'I' if vr == b'UL' else 'H'
        new = body
        for tag in (0x00280010, 0x00280011):
            lay2 = DicomLayout(lay.head, lay.meta, new, scan(new, 0, len(new), lay.explicit, lay.little),
                               lay.explicit, lay.little, lay.deflated)
            new = _set_element(lay2, new, tag, lay.encode_element(tag, vr, _us_bytes(lay, [big], fmt)))
        return lay.assemble(body=new), f'dicom:huge_dims {big}x{big}'
    if op == 'absurd_ds':
        tag = rng.choice(DS_TAGS)
        value = rng.choice(ABSURD_DS)
        new = lay.encode_element(tag, b'DS', _pad(value.encode()))
        return lay.assemble(body=_set_element(lay, body, tag, new)), f'dicom:absurd {IMAGE_TAGS[tag]}={value!r}'
    if op == 'photometric':
        value = rng.choice(PHOTOMETRICS)
        tag = 0x00280004
        new = lay.encode_element(tag, b'CS', _pad(value.encode()))
        return lay.assemble(body=_set_element(lay, body, tag, new)), f'dicom:photometric={value!r}'
    if op == 'pixel_length':
        px = next((el for el in els if el.tag == PIXEL_DATA), None)
        if px is None or px.length == UNDEFINED:
            return lay.assemble(body=body + body[-rng.randrange(1, 64):]), 'dicom:append_after_pixels'
        value = body[px.value_start:px.end]
        how = rng.choice(('shorter', 'shorter', 'longer', 'odd', 'empty', 'much_longer'))
        value = {'shorter': value[:rng.randrange(len(value) + 1)], 'longer': value + bytes(rng.randrange(1, 999)),
                 'odd': value[:-1], 'empty': b'', 'much_longer': value * rng.choice((2, 5, 33))}[how]
        new = lay.encode_element(PIXEL_DATA, px.vr or b'OW', value)
        return lay.assemble(body=_replace(body, px, new)), f'dicom:pixel_data_{how}({len(value)})'
    if op == 'transfer_syntax':  # the meta group names another syntax; the data stays as it is
        uid = rng.choice(TRANSFER_SYNTAXES)
        return with_transfer_syntax(lay, uid), f'dicom:transfer_syntax={uid!r}'
    if op == 'nested_sequence':
        depth = rng.choice((1, 3, 30, 300, 3000))
        vr_sq = b'SQ'
        inner = lay.encode_element(0x00091001, b'LO', b'deep')
        for _ in range(depth):
            item = struct.pack(e + 'HHI', 0xFFFE, 0xE000, len(inner)) + inner
            inner = lay.encode_element(0x00091010, vr_sq, item)
        tag = rng.choice((0x00091010, 0x00283010, 0x00283000))  # private, VOI LUT, Modality LUT sequences
        inner = struct.pack(e + 'HH', tag >> 16, tag & 0xFFFF) + inner[4:]
        return lay.assemble(body=_set_element(lay, body, tag, inner)), f'dicom:nested_sequence({depth})'
    if op == 'voi_lut':  # a VOI LUT Sequence with an absurd descriptor / data
        n = rng.choice((0, 1, 2, 4096, 65535))
        first = rng.choice((0, -32768, 32767, 65535))
        bits = rng.choice((0, 1, 8, 16, 17, 64))
        data_len = rng.choice((0, 2, 2 * max(n, 1), 2 * max(n, 1) + 1, 7))
        desc = lay.encode_element(0x00283002, b'US', _us_bytes(lay, [n, first & 0xFFFF, bits]))
        lut = lay.encode_element(0x00283006, b'OW' if rng.random() < 0.5 else b'US',
                                 bytes(rng.randrange(256) for _ in range(data_len)))
        inner = desc + lut
        item = struct.pack(e + 'HHI', 0xFFFE, 0xE000, len(inner)) + inner
        seq = lay.encode_element(0x00283010, b'SQ', item)
        return lay.assemble(body=_set_element(lay, body, 0x00283010, seq)), \
            f'dicom:voi_lut(n={n},first={first},bits={bits},data={data_len})'
    if op == 'meta_mutation':
        head, what = byte_mutation(rng, lay.head[132:])
        return lay.head[:132] + head + lay.assemble()[len(lay.head):], f'dicom:meta_{what}'
    # header_bit_flips (or an op that did not apply): flips before the pixel data
    px = next((el.start for el in els if el.tag == PIXEL_DATA), len(body))
    new, what = bit_flips(rng, body, 0, max(px, 1))
    return lay.assemble(body=new), f'dicom:header_{what}'


def deflate_bomb(rng: random.Random, lay: DicomLayout) -> Tuple[bytes, str]:
    """A deflated file of ~1 MB whose data set inflates to hundreds of MB or GB of zeros."""
    size = rng.choice((300 << 20, 2 << 30))
    tag = 0x00091020
    at = next((el.start for el in lay.elements if el.tag > tag), len(lay.body))
    e = '<' if lay.little else '>'
    header = struct.pack(e + 'HH', tag >> 16, tag & 0xFFFF) + b'OB\0\0' + struct.pack(e + 'I', size)
    def flushed(raw: bytes, mode: int = zlib.Z_FULL_FLUSH) -> bytes:
        # a full flush ends byte-aligned without a final block: such pieces concatenate
        comp = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
        return comp.compress(raw) + comp.flush(mode)
    zeros = flushed(bytes(16 << 20))
    body = flushed(lay.body[:at] + header) + zeros * (size >> 24) + flushed(lay.body[at:], zlib.Z_FINISH)
    return lay.head + body, f'dicom:deflate_bomb({size >> 20} MB)'


def mutate_dicom(rng: random.Random, data: bytes, other: Optional[bytes] = None) -> Tuple[bytes, str]:
    """1 to 3 mutations: mostly structure-aware, some plain byte mutations."""
    names = []
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        if rng.random() < 0.75:
            data, what = dicom_structural(rng, data, other)
        else:
            data, what = byte_mutation(rng, data, other)
            what = 'bytes:' + what
        names.append(what)
        if 'deflate_bomb' in what:  # the bomb stays as it is (mutating it means inflating it)
            break
    return data, ' + '.join(names)


# --------------------------------------------------------------------------------------- text

def mutate_csv(rng: random.Random, text: str) -> Tuple[bytes, str]:
    """A hand-edited CSV gone wrong: bad cells, ragged rows, lost columns, bad encodings."""
    lines = text.splitlines()
    header, rows = lines[0].split(','), [ln.split(',') for ln in lines[1:]]
    op = rng.choice(('cell', 'cell', 'cell', 'ragged', 'drop_column', 'rename_header', 'swap_columns',
                     'duplicate_row', 'delete_rows', 'quote', 'empty', 'header_only', 'bom_crlf',
                     'invalid_utf8', 'long_line', 'bytes', 'duplicate_header', 'nul'))
    if op == 'cell' and rows:
        r = rng.choice(rows)
        c = rng.randrange(len(r))
        r[c] = rng.choice(HOSTILE_NUMBERS + ('No finding', 'Nodule/Mass', 'nodule/mass ', '../x', 'a/b'))
        what = f'cell[{c}]={r[c]!r}'
    elif op == 'ragged' and rows:
        r = rng.choice(rows)
        if rng.random() < 0.5:
            r.append(rng.choice(('', 'x', '1')))
        else:
            r.pop()
        what = 'ragged_row'
    elif op == 'drop_column':
        c = rng.randrange(len(header))
        header.pop(c)
        for r in rows:
            if c < len(r):
                r.pop(c)
        what = f'drop_column({c})'
    elif op == 'rename_header':
        c = rng.randrange(len(header))
        header[c] = rng.choice(('', ' x_min ', 'X_MIN', 'image id', header[c] + header[c], '"x_min"'))
        what = f'rename_header({c})'
    elif op == 'swap_columns':
        a, b = rng.randrange(len(header)), rng.randrange(len(header))
        header[a], header[b] = header[b], header[a]
        what = f'swap_header({a},{b})'
    elif op == 'duplicate_row' and rows:
        rows.insert(rng.randrange(len(rows) + 1), list(rng.choice(rows)))
        what = 'duplicate_row'
    elif op == 'delete_rows' and rows:
        k = rng.randrange(len(rows))
        del rows[k:k + rng.choice((1, 2, len(rows)))]
        what = 'delete_rows'
    elif op == 'quote' and rows:
        r = rng.choice(rows)
        r[rng.randrange(len(r))] = rng.choice(('"', '"a,b"', '"x', "'", '"1""2"'))
        what = 'quote'
    elif op == 'empty':
        return b'', 'csv:empty'
    elif op == 'header_only':
        rows = []
        what = 'header_only'
    elif op == 'duplicate_header':
        header = header + header
        what = 'duplicate_header'
    else:
        what = op
    out = '\n'.join(','.join(x) for x in [header] + rows) + '\n'
    raw = out.encode('utf-8')
    if op == 'bom_crlf':
        raw = b'\xef\xbb\xbf' + out.replace('\n', '\r\n').encode()
    elif op == 'invalid_utf8':
        i = rng.randrange(len(raw) + 1)
        raw = raw[:i] + rng.choice((b'\xff', b'\xc3', b'\xe9', b'\x80\x80', b'\xed\xa0\x80')) + raw[i:]
    elif op == 'long_line':
        raw += b'img_a,Nodule/Mass,8,R9,' + b'1' * rng.choice((10_000, 1_000_000)) + b',1,2,3\n'
    elif op == 'nul':
        i = rng.randrange(len(raw) + 1)
        raw = raw[:i] + b'\x00' + raw[i:]
    elif op == 'bytes':
        raw, w = byte_mutation(rng, raw)
        what = 'bytes:' + w
    return raw, f'csv:{what}'


XML_NUMBER_TAGS = ('xmin', 'ymin', 'xmax', 'ymax', 'width', 'height')


def mutate_xml(rng: random.Random, text: str) -> Tuple[bytes, str]:
    """A Pascal-VOC XML gone wrong: hostile numbers, lost / repeated tags, nesting, entities."""
    import re
    op = rng.choice(('number', 'number', 'number', 'drop_tag', 'duplicate_object', 'rename', 'deep',
                     'entities', 'truncate', 'bytes', 'invalid_utf8', 'encoding', 'doctype_external', 'empty'))
    if op == 'number':
        tags = [t for t in XML_NUMBER_TAGS if f'<{t}>' in text]
        if tags:
            t = rng.choice(tags)
            value = rng.choice(HOSTILE_NUMBERS)
            spans = [m.span(1) for m in re.finditer(f'<{t}>(.*?)</{t}>', text)]
            a, b = rng.choice(spans)
            text = text[:a] + value.replace('<', '') + text[b:]
            return text.encode('utf-8', 'surrogatepass'), f'xml:{t}={value!r}'
    if op == 'drop_tag':
        t = rng.choice(XML_NUMBER_TAGS + ('name', 'bndbox', 'size', 'object'))
        text2 = re.sub(f'<{t}>.*?</{t}>', '', text, count=1, flags=re.S)
        return text2.encode(), f'xml:drop_{t}'
    if op == 'duplicate_object':
        m = re.search('<object>.*?</object>', text, flags=re.S)
        if m:
            return (text[:m.end()] + m.group(0) * rng.choice((1, 2, 50)) + text[m.end():]).encode(), \
                'xml:duplicate_object'
    if op == 'rename':
        return text.replace('<name>', '<Name>', 1).replace('</name>', '</Name>', 1).encode(), 'xml:rename_name'
    if op == 'deep':
        depth = rng.choice((10, 1000, 100_000))
        nest = '<a>' * depth + '</a>' * depth
        return text.replace('</annotation>', nest + '</annotation>').encode(), f'xml:deep({depth})'
    if op == 'entities':  # a small "billion laughs"
        dtd = ('<!DOCTYPE annotation [<!ENTITY a "aaaaaaaaaa">' +
               ''.join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'
                       for i in range(rng.choice((2, 8)))) + ']>')
        last = chr(97 + (dtd.count('<!ENTITY') - 1))
        text2 = text.replace('<annotation>', dtd + '<annotation>', 1).replace('<pose>', f'<pose>&{last};', 1)
        if '<pose>' not in text:
            text2 = text2.replace('<filename>', f'<filename>&{last};', 1)
        return text2.encode(), 'xml:entities'
    if op == 'doctype_external':
        text2 = text.replace('<annotation>', '<!DOCTYPE annotation [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                             '<annotation>', 1).replace('<filename>', '<filename>&x;', 1)
        return text2.encode(), 'xml:external_entity'
    if op == 'truncate':
        raw, w = truncate(rng, text.encode())
        return raw, 'xml:' + w
    if op == 'invalid_utf8':
        raw = text.encode()
        i = rng.randrange(len(raw) + 1)
        return raw[:i] + b'\xff\xfe' + raw[i:], 'xml:invalid_utf8'
    if op == 'encoding':
        enc = rng.choice(('utf-16', 'utf-32', 'shift_jis', 'latin-1', 'bogus-enc', 'rot13'))
        return f'<?xml version="1.0" encoding="{enc}"?>\n'.encode() + text.encode(), f'xml:encoding={enc}'
    if op == 'empty':
        return b'', 'xml:empty'
    raw, w = byte_mutation(rng, text.encode())
    return raw, 'xml:bytes:' + w


def mutate_list(rng: random.Random, text: str, names: Sequence[str]) -> Tuple[bytes, str]:
    """A TBX11K list file gone wrong: odd paths, repeated lines, bad encodings."""
    lines = text.splitlines()
    op = rng.choice(('add', 'add', 'duplicate', 'drop', 'invalid_utf8', 'bytes', 'crlf', 'empty'))
    if op == 'add':
        line = rng.choice(('../lists/TBX11K_train.txt', '/etc/passwd', 'tb/missing.png',
                           'tb\\' + names[0].split('/')[-1],
                           './' + names[0], '/' + names[0], ' ', '\t', '.', 'imgs', 'tb', 'tb/',
                           'x' * 5000, names[0] + '\x00', names[0].upper(), '../' * 40 + 'x.png',
                           names[0] + ' extra', '\ufeff' + names[0]))
        lines.insert(rng.randrange(len(lines) + 1), line)
        what = f'add_line({line[:20]!r})'
    elif op == 'duplicate' and lines:
        lines.append(rng.choice(lines))
        what = 'duplicate_line'
    elif op == 'drop' and lines:
        lines.pop(rng.randrange(len(lines)))
        what = 'drop_line'
    elif op == 'empty':
        return b'', 'list:empty'
    else:
        what = op
    raw = ('\n'.join(lines) + '\n').encode('utf-8', 'surrogatepass')
    if op == 'invalid_utf8':
        i = rng.randrange(len(raw) + 1)
        raw = raw[:i] + rng.choice((b'\xff', b'\xc3(', b'\x80')) + raw[i:]
    elif op == 'crlf':
        raw = raw.replace(b'\n', b'\r\n')
    elif op == 'bytes':
        raw, w = byte_mutation(rng, raw)
        what = 'bytes:' + w
    return raw, f'list:{what}'


def mutate_png(rng: random.Random, data: bytes, other: Optional[bytes] = None) -> Tuple[bytes, str]:
    """A PNG with an absurd / broken header, truncated, or another format under its name."""
    op = rng.choice(('ihdr_size', 'ihdr_size', 'truncate', 'bytes', 'not_png', 'jpeg'))
    if op == 'ihdr_size' and len(data) >= 24:
        w, h = rng.choice(((0, 64), (64, 0), (2**31, 64), (2**32 - 1, 2**32 - 1), (100000, 100000), (1, 1)))
        return data[:16] + struct.pack('>II', w, h) + data[24:], f'png:ihdr {w}x{h}'
    if op == 'truncate':
        raw, w = truncate(rng, data)
        return raw, 'png:' + w
    if op == 'not_png':
        return b'GIF89a' + bytes(40), 'png:not_png'
    if op == 'jpeg' and other is not None:
        return other, 'png:jpeg_bytes'
    raw, w = byte_mutation(rng, data)
    return raw, 'png:bytes:' + w


# --------------------------------------------------------------------------------------- COCO json

def _deep(depth: int, kind: str = 'list') -> Any:
    v: Any = 0
    for _ in range(depth):
        v = [v] if kind == 'list' else {'a': v}
    return v


def hostile_value(rng: random.Random) -> Any:
    return rng.choice((None, True, False, '', 'x', '1', -1, 0, 1, 2**31, 2**63, 2**64 + 1, 10**30, -10**30,
                       1e308, -1e308, float('nan'), float('inf'), float('-inf'), 1.5, -0.0, [], {}, [1, 2],
                       [[1, 2, 3, 4]], {'id': 1}, 'é' * 3, 'a' * 10_000, [float('nan')] * 4,
                       _deep(rng.choice((5, 50))), '../ann.json', '/etc/passwd'))


BOX_VALUES = ([float('nan'), 1, 2, 3], [1, 2, float('inf'), 4], [1, 2, -3, 4], [1, 2, 3, -4], [-50, -50, 10, 10],
              [1e308, 1e308, 1e308, 1e308], [0, 0, 0, 0], [1, 2, 3], [1, 2, 3, 4, 5], ['1', '2', '3', '4'],
              [True, 1, 2, 3], [[1], 2, 3, 4], None, '1,2,3,4', {'x': 1}, [1e-300, 1e-300, 1e-300, 1e-300],
              [2**70, 1, 2, 3], [1, 2, 3, 1e-320], [-0.0, -0.0, 5, 5], [31.5, 31.5, 0.4, 0.4])
ID_VALUES = (2**63, 2**64 + 5, 10**30, -1, 0, 1.0, 1.5, '1', None, True, [1], {'id': 1}, float('nan'),
             float('inf'), 'é')


def mutate_coco(rng: random.Random, data: dict) -> Tuple[Any, str]:
    """One structure-aware mutation of a COCO dict (a deep copy is returned)."""
    data = copy.deepcopy(data)
    op = rng.choice(('box', 'box', 'box', 'id', 'id', 'ref', 'delete_key', 'delete_key', 'replace_value',
                     'replace_value', 'top_level', 'duplicate_entry', 'drop_entry', 'deep', 'size',
                     'file_name', 'category', 'area'))
    images, anns, cats = data.get('images'), data.get('annotations'), data.get('categories')

    def pick(seq):
        return rng.randrange(len(seq)) if isinstance(seq, list) and seq else None

    def pick_entry():
        """``(section name, section, index or None)`` of a random entry of a random section."""
        seq_name = rng.choice(('images', 'annotations', 'categories'))
        seq = data.get(seq_name)
        return seq_name, seq, pick(seq)

    if op == 'box' and pick(anns) is not None:
        i = pick(anns)
        if isinstance(anns[i], dict):
            anns[i]['bbox'] = copy.deepcopy(rng.choice(BOX_VALUES))
            return data, f'coco:annotations[{i}].bbox={anns[i]["bbox"]!r}'
    if op == 'area' and pick(anns) is not None:
        i = pick(anns)
        if isinstance(anns[i], dict):
            anns[i]['area'] = rng.choice((0, -1, float('nan'), float('inf'), '80', None, 1e308, [80]))
            return data, f'coco:annotations[{i}].area={anns[i]["area"]!r}'
    if op == 'id':
        seq_name, seq, i = pick_entry()
        if i is not None and isinstance(seq[i], dict):
            seq[i]['id'] = copy.deepcopy(rng.choice(ID_VALUES))
            return data, f'coco:{seq_name}[{i}].id={seq[i]["id"]!r}'
    if op == 'ref' and pick(anns) is not None:
        i = pick(anns)
        key = rng.choice(('image_id', 'category_id'))
        if isinstance(anns[i], dict):
            anns[i][key] = copy.deepcopy(rng.choice(ID_VALUES + (2, 99)))
            return data, f'coco:annotations[{i}].{key}={anns[i][key]!r}'
    if op == 'size' and pick(images) is not None:
        i = pick(images)
        key = rng.choice(('width', 'height'))
        if isinstance(images[i], dict):
            images[i][key] = rng.choice((0, -32, 31, 33, 32.0, 32.5, '32', None, 2**40, float('nan'), True))
            return data, f'coco:images[{i}].{key}={images[i][key]!r}'
    if op == 'file_name' and pick(images) is not None:
        i = pick(images)
        if isinstance(images[i], dict):
            images[i]['file_name'] = rng.choice(('', '2.png', '../ann.json', '/etc/passwd', 'missing.png', 'x' * 5000,
                                                 '1.png\x00', 'images', '.', 1, None, ['1.png'], '1.PNG', ' 1.png'))
            return data, f'coco:images[{i}].file_name={str(images[i]["file_name"])[:30]!r}'
    if op == 'category' and pick(cats) is not None:
        i = pick(cats)
        what = rng.choice(('name', 'no_name', 'not_dict', 'no_id', 'dup_name'))
        if what == 'not_dict':
            cats[i] = rng.choice(('nodule', 1, None, [1, 'nodule']))
        elif what == 'no_name' and isinstance(cats[i], dict):
            cats[i].pop('name', None)
        elif what == 'no_id' and isinstance(cats[i], dict):
            cats[i].pop('id', None)
        elif what == 'dup_name' and isinstance(cats[i], dict):
            cats[i]['name'] = 'nodule'
        elif isinstance(cats[i], dict):
            cats[i]['name'] = hostile_value(rng)
        return data, f'coco:categories[{i}]:{what}'
    if op == 'delete_key':
        seq_name, seq, i = pick_entry()
        if i is not None and isinstance(seq[i], dict) and seq[i]:
            key = rng.choice(sorted(seq[i]))
            del seq[i][key]
            return data, f'coco:del {seq_name}[{i}].{key}'
    if op == 'replace_value':
        seq_name, seq, i = pick_entry()
        if i is not None and isinstance(seq[i], dict) and seq[i]:
            key = rng.choice(sorted(seq[i]))
            seq[i][key] = hostile_value(rng)
            return data, f'coco:{seq_name}[{i}].{key}={str(seq[i][key])[:30]!r}'
        if i is not None:
            seq[i] = hostile_value(rng)
            return data, f'coco:{seq_name}[{i}]=hostile'
    if op == 'top_level':
        key = rng.choice(('images', 'annotations', 'categories'))
        what = rng.choice(('delete', 'dict', 'none', 'string', 'empty', 'nested'))
        if what == 'delete':
            data.pop(key, None)
        else:
            data[key] = {'dict': {'0': data.get(key)}, 'none': None, 'string': 'x', 'empty': [],
                         'nested': [data.get(key)]}[what]
        return data, f'coco:{key}:{what}'
    if op == 'duplicate_entry':
        seq_name, seq, i = pick_entry()
        if i is not None:
            seq.insert(rng.randrange(len(seq) + 1), copy.deepcopy(seq[i]))
            return data, f'coco:duplicate {seq_name}[{i}]'
    if op == 'drop_entry':
        seq_name, seq, i = pick_entry()
        if i is not None:
            seq.pop(i)
            return data, f'coco:drop {seq_name}[{i}]'
    if op == 'deep':
        depth = rng.choice((50, 900, 5000, 100_000))
        where = rng.choice(('bbox', 'top', 'image'))
        nested = _deep(min(depth, 50), rng.choice(('list', 'dict')))
        if where == 'bbox' and pick(anns) is not None and isinstance(anns[0], dict):
            anns[0]['bbox'] = nested
        elif where == 'image' and pick(images) is not None and isinstance(images[0], dict):
            images[0]['extra'] = nested
        else:
            data['extra'] = nested
        if depth > 50:  # deeper than copy / json.dumps like: spliced in as text by dump_coco
            data['__deep_text__'] = depth
        return data, f'coco:deep({depth},{where})'
    return data, 'coco:unchanged'


def dump_coco(rng: random.Random, data: Any) -> Tuple[bytes, str]:
    """Serialise a (mutated) COCO dict, sometimes with a textual mutation on top."""
    deep = data.pop('__deep_text__', None) if isinstance(data, dict) else None
    text = json.dumps(data)
    if deep:
        text = text[:-1] + ', "deeper": ' + '[' * deep + ']' * deep + '}'
    raw, what = text.encode(), ''
    r = rng.random()
    if r < 0.08:
        raw, w = byte_mutation(rng, raw)
        what = ' + json:' + w
    elif r < 0.10:
        raw, what = b'\xef\xbb\xbf' + raw, ' + json:bom'
    elif r < 0.12:
        raw, what = text.encode('utf-16'), ' + json:utf16'
    elif r < 0.14:  # an integer longer than Python's default int conversion limit
        raw, what = raw.replace(b'"id": 1,', b'"id": ' + b'9' * 5000 + b',', 1), ' + json:long_int'
    elif r < 0.16:
        raw, what = b'', ' + json:empty'
    return raw, what
