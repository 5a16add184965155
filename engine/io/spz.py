"""Niantic's ``.spz``: gzip'd (v2/v3) or zstd'd (v4) quantised attribute columns.

Layout of the versions read here (nianticlabs/spz ``load-spz.cc``, README):

* v2 / v3: one gzip stream holding a 16-byte header -- magic ``0x5053474e`` ("NGSP"),
  version u32, numPoints u32, shDegree u8, fractionalBits u8, flags u8 (0x1 antialiased,
  0x2 extension records follow the data), reserved u8 -- then the columns, attribute-major:
  positions, alphas, colours, scales, rotations, SH.
* v4: a plain 32-byte header (as above plus numStreams u8, tocByteOffset u32, 12 reserved
  bytes), optional extension records, a table of contents (numStreams x [compressed u64,
  uncompressed u64]) and one zstd stream per column, in the same column order.

Quantisation (what the writer stores, what the reader undoes):

=========== ====================================================== ===========================
column      stored                                                 step after reading
=========== ====================================================== ===========================
position    3 x int24 = round(p * 2^12) (fractionalBits 12)        2^-12 = 0.000244 (|p| < 2048)
alpha       u8 = round(sigmoid(logit) * 255)                       1/255 of opacity
colour      u8 = round(f_dc * 0.15 * 255 + 127.5)                  1/(0.15*255) = 0.0261 of f_dc
                                                                     = 0.0074 of 0.5+C0*f_dc
scale       u8 = round((log_scale + 10) * 16)                      1/16 of log scale (6.4 %)
rotation    v2: x,y,z of the unit quaternion with w >= 0, as        v2: 1/127.5 per component
            u8 = round(c * 127.5 + 127.5); w = sqrt(1 - |xyz|^2)
            v3/v4: "smallest three": 2-bit index of the largest     v3: ~0.0014 per component
            component (x,y,z,w order) + 3 x (sign bit, 9-bit
            magnitude / (1/sqrt 2))
SH rest     s8 = round(c * 128) + 128, then rounded to a multiple   1/16 (band 1), 1/8 (bands 2+)
            of 8 (band 1: 5 bits) or 16 (bands 2+: 4 bits);
            coefficient-major with the colour channel inner
=========== ====================================================== ===========================

Rounding is half away from zero (C++ ``std::round``), so our bytes equal Niantic's for the
same input. The writer writes **version 2** by default: it is the version every SPZ reader we
checked accepts (Niantic's reads 1-4, PlayCanvas splat-transform 2-4, spz-js only 1-2);
``version=3`` gives finer rotations for readers that take it.

Frame. SPZ stores RUB (x right, y up, z back: a face looks toward +Z), the three.js / OpenGL
convention. The writer maps FaceLift's world (z up, face toward -Y) into it with
:data:`engine.io.export.Y_UP_ROTATION` (x, z, -y) and the reader maps back, so a head opens
upright here and in readers that honour the format's frame.

Every problem raises :class:`engine.api.InputError` (reading) or :class:`OutputError`
(writing) with one line naming the file; a failed write leaves no file.
"""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import numpy as np

from engine.errors import InputError
from engine.gaussians import Gaussians
from engine.io.atomic import atomic_write

SPZ_MAGIC = 0x5053474E
WRITE_VERSION = 2
READ_VERSIONS = (2, 3, 4)
FRACTIONAL_BITS = 12
COLOR_SCALE = 0.15
SH1_BITS = 5
SH_REST_BITS = 4
_LEGACY_HEADER = struct.Struct("<IIIBBBB")  # 16 bytes
_V4_HEADER = struct.Struct("<IIIBBBBI12x")  # 32 bytes
_FLAG_ANTIALIASED = 0x1
_FLAG_EXTENSIONS = 0x2
_SQRT1_2 = np.float32(0.7071067811865476)
_MAX_POSITION = (1 << 23) - 1


def _round(x: np.ndarray) -> np.ndarray:
    """Round half away from zero, as C++ std::round."""
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def _to_u8(x: np.ndarray) -> np.ndarray:
    """Niantic's toUint8: clamp(round(x), 0, 255)."""
    return np.clip(_round(x), 0, 255).astype(np.uint8)


def _sh_dim(degree: int) -> int:
    return (degree + 1) ** 2 - 1


# ======================================================================================
# Writing
# ======================================================================================


def _pack_positions(xyz: np.ndarray, path: Path) -> np.ndarray:
    fixed = _round(xyz.astype(np.float64) * (1 << FRACTIONAL_BITS))
    if fixed.size and np.abs(fixed).max() > _MAX_POSITION:
        raise InputError(
            f"{path}: positions beyond +-{_MAX_POSITION / (1 << FRACTIONAL_BITS):.0f} cannot be stored in SPZ"
        )
    as_u32 = fixed.astype(np.int32).view(np.uint32)
    out = np.empty((*xyz.shape, 3), np.uint8)  # (N,3,3): per coordinate, 3 little-endian bytes
    for b in range(3):
        out[..., b] = (as_u32 >> np.uint32(8 * b)) & np.uint32(0xFF)
    return out


def _pack_rotations(quats_wxyz: np.ndarray, version: int) -> np.ndarray:
    q = quats_wxyz.astype(np.float32)
    q = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), np.float32(1e-12))
    xyzw = q[:, [1, 2, 3, 0]]
    if version == 2:
        sign = np.where(xyzw[:, 3:4] < 0, np.float32(-127.5), np.float32(127.5))
        return _to_u8(xyzw[:, :3] * sign + np.float32(127.5))
    largest = np.argmax(np.abs(xyzw), axis=1)
    negate = np.take_along_axis(xyzw, largest[:, None], 1)[:, 0] < 0
    comp = largest.astype(np.uint32)
    for i in range(4):
        keep = largest != i
        neg_bit = ((xyzw[:, i] < 0) ^ negate).astype(np.uint32)
        mag = (np.float32(511.0) * (np.abs(xyzw[:, i]) / _SQRT1_2) + np.float32(0.5)).astype(np.uint32)
        comp = np.where(keep, (comp << np.uint32(10)) | (neg_bit << np.uint32(9)) | mag, comp)
    return comp.astype("<u4").view(np.uint8).reshape(-1, 4)


def _quantise_sh(x: np.ndarray, bits: int) -> np.ndarray:
    bucket = 1 << (8 - bits)
    q = _round(x.astype(np.float32) * np.float32(128.0)).astype(np.int32) + 128
    q = (q + bucket // 2) // bucket * bucket
    return np.clip(q, 0, 255).astype(np.uint8)


def encode_spz(g: Gaussians, version: int = WRITE_VERSION, path: Path | None = None) -> bytes:
    """The gzip'd SPZ bytes (v2 or v3) of ``g``, which must already be in the RUB frame.

    Raises InputError for an unsupported version or positions outside the 24-bit range.
    """
    where = path or Path("<spz>")
    if version not in (2, 3):
        raise InputError(f"{where}: SPZ version {version} is not written here (2 or 3)")
    n, degree = len(g), g.sh_degree
    header = _LEGACY_HEADER.pack(SPZ_MAGIC, version, n, degree, FRACTIONAL_BITS, 0, 0)
    alphas = _to_u8(g.opacities.astype(np.float32) * np.float32(255.0))
    colours = _to_u8(g.sh_dc * np.float32(COLOR_SCALE * 255.0) + np.float32(0.5 * 255.0))
    scales = _to_u8((g.log_scales + np.float32(10.0)) * np.float32(16.0))
    parts = [
        header,
        _pack_positions(g.xyz, where).tobytes(),
        alphas.tobytes(),
        colours.tobytes(),
        scales.tobytes(),
        _pack_rotations(g.quats, version).tobytes(),
    ]
    if degree:
        sh = np.empty(g.sh_rest.shape, np.uint8)  # (N,K,3): coefficient-major, channel inner
        sh[:, :3] = _quantise_sh(g.sh_rest[:, :3], SH1_BITS)
        sh[:, 3:] = _quantise_sh(g.sh_rest[:, 3:], SH_REST_BITS)
        parts.append(sh.tobytes())
    packer = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS, 9)  # gzip wrapper, as Niantic's
    return b"".join([*(packer.compress(p) for p in parts), packer.flush()])


def save_spz(g: Gaussians, path: str | os.PathLike[str], *, version: int = WRITE_VERSION) -> None:
    """Write ``g`` (FaceLift frame) as an SPZ file in the RUB frame, atomically."""
    from engine.io.export import Y_UP_ROTATION, rotate_gaussians

    path = Path(path)
    data = encode_spz(rotate_gaussians(g, Y_UP_ROTATION), version, path)
    with atomic_write(path) as tmp:
        tmp.write_bytes(data)


# ======================================================================================
# Reading
# ======================================================================================


def _column_sizes(n: int, degree: int, version: int) -> list[int]:
    """Byte sizes of positions, alphas, colours, scales, rotations, SH for n points."""
    return [n * 9, n, n * 3, n * 3, n * (3 if version == 2 else 4), n * _sh_dim(degree) * 3]


def _gunzip(path: Path, raw: bytes) -> bytes:
    """The decompressed v2/v3 payload, inflated no further than its header says it reaches."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        head = inflater.decompress(raw, _LEGACY_HEADER.size)
        if len(head) < _LEGACY_HEADER.size:
            raise InputError(f"{path}: truncated SPZ file (the header is incomplete)")
        magic, version, n, degree, _bits, flags, _r = _LEGACY_HEADER.unpack(head)
        _check_header(path, magic, version, degree)
        need = sum(_column_sizes(n, degree, version))
        body = inflater.decompress(inflater.unconsumed_tail, need + 1)
        if len(body) < need:
            body += inflater.flush()  # small files may still sit in the inflater's buffer
    except zlib.error as exc:
        raise InputError(f"{path}: corrupt SPZ (gzip stream: {exc})") from None
    if len(body) < need:
        raise InputError(
            f"{path}: truncated SPZ file: {n} points need {need} bytes of data, found {len(body)}"
        )
    if len(body) > need and not flags & _FLAG_EXTENSIONS:
        raise InputError(f"{path}: corrupt SPZ file: more data than its {n} points need")
    return head + body[:need]


def _check_header(path: Path, magic: int, version: int, degree: int) -> None:
    if magic != SPZ_MAGIC:
        raise InputError(f"{path}: not an SPZ file (bad magic number)")
    if version not in READ_VERSIONS:
        raise InputError(f"{path}: SPZ version {version} is not supported (versions 2, 3 and 4 are)")
    if degree > 4:
        raise InputError(f"{path}: SPZ spherical-harmonics degree {degree} is not 0..4")


def _v4_columns(path: Path, raw: bytes) -> tuple[tuple[int, int, int, int], list[bytes]]:
    """(version, n, degree, bits, flags) and the decompressed columns of a v4 file."""
    if len(raw) < _V4_HEADER.size:
        raise InputError(f"{path}: truncated SPZ file (the header is incomplete)")
    magic, version, n, degree, bits, flags, streams, toc = _V4_HEADER.unpack_from(raw)
    _check_header(path, magic, version, degree)
    if version != 4:
        raise InputError(f"{path}: corrupt SPZ file (a version {version} header outside gzip)")
    sizes = [s for s in _column_sizes(n, degree, 4) if s]
    if n and streams != len(sizes):
        raise InputError(f"{path}: corrupt SPZ file: {streams} streams where {len(sizes)} are expected")
    if toc < _V4_HEADER.size or toc + 16 * streams > len(raw):
        raise InputError(f"{path}: truncated SPZ file (its table of contents is missing)")
    try:
        import zstandard
    except ImportError:  # pragma: no cover - a dependency
        raise InputError(f"{path}: SPZ version 4 needs the zstandard package") from None
    offset = toc + 16 * streams
    columns = []
    for i in range(streams):
        packed, unpacked = struct.unpack_from("<QQ", raw, toc + 16 * i)
        if i < len(sizes) and unpacked != sizes[i]:
            raise InputError(f"{path}: corrupt SPZ file: stream {i} holds {unpacked} bytes, not {sizes[i]}")
        if offset + packed > len(raw):
            raise InputError(f"{path}: truncated SPZ file (stream {i} is cut short)")
        try:
            data = zstandard.ZstdDecompressor().decompress(
                raw[offset : offset + packed], max_output_size=unpacked
            )
        except zstandard.ZstdError as exc:
            raise InputError(f"{path}: corrupt SPZ (zstd stream {i}: {exc})") from None
        if len(data) != unpacked:
            raise InputError(f"{path}: corrupt SPZ file: stream {i} decompresses to {len(data)} bytes")
        columns.append(data)
        offset += packed
    return (n, degree, bits, flags), columns


def _split_legacy(payload: bytes) -> tuple[tuple[int, int, int, int], int, list[bytes]]:
    _magic, version, n, degree, bits, flags, _r = _LEGACY_HEADER.unpack_from(payload)
    columns, at = [], _LEGACY_HEADER.size
    for size in _column_sizes(n, degree, version):
        columns.append(payload[at : at + size])
        at += size
    return (n, degree, bits, flags), version, columns


def _unpack_positions(col: bytes, n: int, bits: int) -> np.ndarray:
    b = np.frombuffer(col, np.uint8).reshape(n, 3, 3).astype(np.int32)
    fixed = b[..., 0] | (b[..., 1] << 8) | (b[..., 2] << 16)
    fixed = np.where(fixed & 0x800000, fixed - (1 << 24), fixed)
    return (fixed.astype(np.float32) / np.float32(1 << bits)).astype(np.float32)


def _unpack_rotations(col: bytes, n: int, version: int) -> np.ndarray:
    """(n,4) unit quaternions (w,x,y,z)."""
    if version == 2:
        xyz = np.frombuffer(col, np.uint8).reshape(n, 3).astype(np.float32) / np.float32(127.5) - 1
        w = np.sqrt(np.maximum(np.float32(0.0), 1 - (xyz * xyz).sum(axis=1)))
        return np.concatenate([w[:, None], xyz], axis=1)
    comp = np.frombuffer(col, "<u4").astype(np.uint32)
    largest = (comp >> np.uint32(30)).astype(np.int64)
    xyzw = np.zeros((n, 4), np.float32)
    rest = comp.copy()
    for i in (3, 2, 1, 0):
        here = largest != i
        mag = (rest & np.uint32(511)).astype(np.float32) * (_SQRT1_2 / np.float32(511))
        sign = np.where((rest >> np.uint32(9)) & np.uint32(1), np.float32(-1.0), np.float32(1.0))
        xyzw[:, i] = np.where(here, mag * sign, 0)
        rest = np.where(here, rest >> np.uint32(10), rest)
    big = np.sqrt(np.maximum(np.float32(0.0), 1 - (xyzw * xyzw).sum(axis=1)))
    np.put_along_axis(xyzw, largest[:, None], big[:, None], axis=1)
    return xyzw[:, [3, 0, 1, 2]]


def _logit_of_byte(col: bytes) -> np.ndarray:
    a = np.frombuffer(col, np.uint8).astype(np.float32) / np.float32(255.0)
    a = np.clip(a, np.float32(0.5 / 255), np.float32(1 - 0.5 / 255))  # bytes 0 and 255 stay finite
    return np.log(a / (1 - a))


def decode_spz(path: Path, raw: bytes) -> Gaussians:
    """Gaussians (still in the file's RUB frame) of SPZ bytes of any version read here."""
    if raw[:2] == b"\x1f\x8b":
        (n, degree, bits, _flags), version, cols = _split_legacy(_gunzip(path, raw))
    elif raw[:4] == struct.pack("<I", SPZ_MAGIC):
        (n, degree, bits, _flags), cols = _v4_columns(path, raw)
        version = 4
        cols += [b""] * (6 - len(cols))
    elif not raw:
        raise InputError(f"{path}: empty file, not an SPZ file")
    else:
        raise InputError(f"{path}: not an SPZ file (neither gzip nor an NGSP header)")
    if not 0 < bits <= 23:
        raise InputError(f"{path}: corrupt SPZ file: {bits} fractional bits")
    k = _sh_dim(degree)
    sh = (np.frombuffer(cols[5], np.uint8).astype(np.float32) - np.float32(128.0)) / np.float32(128.0)
    colours = np.frombuffer(cols[2], np.uint8).reshape(n, 3).astype(np.float32)
    try:
        return Gaussians(
            xyz=_unpack_positions(cols[0], n, bits),
            sh_dc=(colours / np.float32(255.0) - np.float32(0.5)) / np.float32(COLOR_SCALE),
            sh_rest=sh.reshape(n, k, 3),
            log_scales=np.frombuffer(cols[3], np.uint8).reshape(n, 3).astype(np.float32) / np.float32(16.0)
            - np.float32(10.0),
            quats=_unpack_rotations(cols[4], n, version),
            opacity_logits=_logit_of_byte(cols[1]),
        )
    except InputError as exc:
        raise InputError(f"{path}: {exc.message.removeprefix('Gaussians: ')}") from None


def load_spz(path: str | os.PathLike[str]) -> Gaussians:
    """Read an SPZ file (v2, v3 or v4) into FaceLift's frame."""
    from engine.io.export import Y_UP_ROTATION, rotate_gaussians

    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return rotate_gaussians(decode_spz(path, raw), Y_UP_ROTATION.T)


__all__ = ["WRITE_VERSION", "decode_spz", "encode_spz", "load_spz", "save_spz"]
