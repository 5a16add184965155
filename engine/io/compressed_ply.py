"""PlayCanvas's compressed PLY (``*.compressed.ply``, SuperSplat's save format).

Layout (PlayCanvas splat-transform ``write-compressed-ply.ts`` / ``compressed-chunk.ts`` and
its reader ``decompress-ply.ts``), binary little endian:

* ``element chunk C`` (C = ceil(N / 256)), 18 floats per chunk of 256 consecutive Gaussians:
  ``min_x min_y min_z max_x max_y max_z``, ``min_scale_x.. max_scale_z`` (log scales, clamped
  to +-20) and ``min_r min_g min_b max_r max_g max_b`` (base colours 0.5 + C0*f_dc). Readers
  also accept files with the first 12 only (colours then span 0..1).
* ``element vertex N``, four ``uint`` words per Gaussian:

  - ``packed_position``: x 11 bits << 21 | y 10 bits << 11 | z 11 bits, each the position
    normalised to its chunk's [min, max];
  - ``packed_rotation``: 2-bit index of the largest |component| << 30, then the other three
    components (in rot_0..rot_3 order, the quaternion's sign chosen so the largest is
    positive) as 10 bits each of ``c / sqrt 2 + 0.5``;
  - ``packed_scale``: log scales 11-10-11 bits, normalised to the chunk's range;
  - ``packed_color``: r, g, b normalised to the chunk's colour range and opacity
    (sigmoid of the logit), 8 bits each, r in the top byte.

  A value v in [0,1] is stored as floor(v * (2^bits - 1) + 0.5); a chunk whose range is under
  1e-5 stores 0.
* optional ``element sh N``: ``uchar f_rest_0..`` (9, 24 or 45, channel-major as INRIA's PLY),
  each trunc((c / 8 + 0.5) * 256) clipped to 0..255; read back as (b + 0.5) / 256 * 8 - 4
  (0 and 255 map to -4 and 4).

The Gaussians are written in Morton (Z-curve) order of their centres, as splat-transform does,
so each chunk is spatially compact and its 11/10-bit steps are small. Steps after reading:
position = chunk extent / 2047 (x, z) or / 1023 (y); log scale likewise; colour = chunk colour
range / 255; opacity 1/255; rotation components 1/(1023 sqrt 2) = 0.0007; SH 1/32.

SH degree 4 is refused (the layout has 45 f_rest at most). The frame is what the caller gives
(PLY has no convention). Problems raise :class:`engine.api.InputError` (one line naming the
file); writes are atomic.
"""

from __future__ import annotations

import os
from io import BufferedReader
from pathlib import Path

import numpy as np

from engine.errors import InputError
from engine.gaussians import SH_C0, Gaussians
from engine.io.atomic import atomic_write
from engine.io.ply_header import PlyHeader, row_dtype

CHUNK = 256
CHUNK_PROPS: tuple[str, ...] = (
    *("min_x", "min_y", "min_z", "max_x", "max_y", "max_z"),
    *("min_scale_x", "min_scale_y", "min_scale_z", "max_scale_x", "max_scale_y", "max_scale_z"),
    *("min_r", "min_g", "min_b", "max_r", "max_g", "max_b"),
)
VERTEX_PROPS: tuple[str, ...] = ("packed_position", "packed_rotation", "packed_scale", "packed_color")
_SCALE_CLAMP = 20.0
_RANGE_EPS = 1e-5
_ALPHA_EPS = 0.5 / 255.0
_SH_REST_COUNTS = (9, 24, 45)


# ======================================================================================
# Writing
# ======================================================================================


def morton_order(xyz: np.ndarray) -> np.ndarray:
    """(N,) int64 indices sorting centres (N,3) along a 3D Z-curve (10 bits per axis over their bounds)."""
    if len(xyz) == 0:
        return np.zeros(0, np.int64)
    lo, hi = xyz.min(axis=0), xyz.max(axis=0)
    cells = np.clip((xyz - lo) / np.maximum(hi - lo, 1e-12) * 1023.0, 0, 1023).astype(np.uint64)
    code = np.zeros(len(xyz), np.uint64)
    for bit in range(10):
        for axis in range(3):
            code |= ((cells[:, axis] >> np.uint64(bit)) & np.uint64(1)) << np.uint64(3 * bit + 2 - axis)
    return np.argsort(code, kind="stable")


def _pack_unorm(v: np.ndarray, bits: int) -> np.ndarray:
    top = (1 << bits) - 1
    return np.clip(np.floor(v * top + 0.5), 0, top).astype(np.uint32)


def _normalise(x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Chunked values (C,256,k) into [0,1] by per-chunk bounds (C,1,k); flat ranges give 0."""
    span = hi - lo
    t = np.where(span < _RANGE_EPS, 0.0, (x - lo) / np.where(span < _RANGE_EPS, 1.0, span))
    return np.clip(t, 0.0, 1.0)


def _pack_111011(t: np.ndarray) -> np.ndarray:
    return (
        (_pack_unorm(t[..., 0], 11) << 21) | (_pack_unorm(t[..., 1], 10) << 11) | _pack_unorm(t[..., 2], 11)
    )


def _pack_rotation(quats: np.ndarray) -> np.ndarray:
    q = quats.astype(np.float64)
    q /= np.maximum(np.linalg.norm(q, axis=-1, keepdims=True), 1e-12)
    largest = np.argmax(np.abs(q), axis=-1)
    sign = np.where(np.take_along_axis(q, largest[..., None], -1) < 0, -1.0, 1.0)
    q *= sign
    out = largest.astype(np.uint32)
    for i in range(4):
        part = _pack_unorm(q[..., i] * np.sqrt(0.5) + 0.5, 10)
        out = np.where(largest != i, (out << np.uint32(10)) | part, out)
    return out


def _chunked(a: np.ndarray, n_chunks: int) -> np.ndarray:
    """(N,k) -> (C,256,k), the last chunk padded with its last row (as splat-transform)."""
    pad = n_chunks * CHUNK - len(a)
    if pad:
        a = np.concatenate([a, np.repeat(a[-1:], pad, axis=0)])
    return a.reshape(n_chunks, CHUNK, a.shape[1])


def encode_compressed_ply(g: Gaussians, path: Path | None = None) -> tuple[bytes, bytes, bytes, bytes]:
    """(header, chunk data, vertex words, SH bytes) of ``g`` in Morton order."""
    where = path or Path("<compressed.ply>")
    if g.sh_degree > 3:
        raise InputError(
            f"{where}: compressed PLY holds SH degree 3 at most; this set has degree {g.sh_degree}"
        )
    n = len(g)
    n_chunks = -(-n // CHUNK)
    order = morton_order(g.xyz)
    g = g.subset(order)
    chunk_data = np.zeros((n_chunks, 18), np.float32)
    words = np.zeros((n_chunks, CHUNK, 4), np.uint32)
    if n:
        pos = _chunked(g.xyz.astype(np.float64), n_chunks)
        scl = _chunked(g.log_scales.astype(np.float64), n_chunks)
        col = _chunked(g.colors.astype(np.float64), n_chunks)
        bounds = []
        for arr, clamp in ((pos, None), (scl, _SCALE_CLAMP), (col, None)):
            lo, hi = arr.min(axis=1, keepdims=True), arr.max(axis=1, keepdims=True)
            if clamp is not None:
                lo, hi = np.clip(lo, -clamp, clamp), np.clip(hi, -clamp, clamp)
            # the bounds are stored as float32: normalise against exactly what a reader sees
            lo, hi = lo.astype(np.float32).astype(np.float64), hi.astype(np.float32).astype(np.float64)
            bounds.append((lo, hi))
            chunk_data[:, len(bounds) * 6 - 6 : len(bounds) * 6] = np.concatenate([lo, hi], axis=2)[:, 0]
        words[..., 0] = _pack_111011(_normalise(pos, *bounds[0]))
        words[..., 1] = _pack_rotation(_chunked(g.quats, n_chunks))
        words[..., 2] = _pack_111011(_normalise(scl, *bounds[1]))
        rgb = _normalise(col, *bounds[2])
        alpha = _chunked(g.opacities[:, None].astype(np.float64), n_chunks)[..., 0]
        words[..., 3] = (
            (_pack_unorm(rgb[..., 0], 8) << 24)
            | (_pack_unorm(rgb[..., 1], 8) << 16)
            | (_pack_unorm(rgb[..., 2], 8) << 8)
            | _pack_unorm(alpha, 8)
        )
    k = g.sh_rest.shape[1]
    sh = b""
    if k:
        channel_major = g.sh_rest.transpose(0, 2, 1).reshape(n, 3 * k).astype(np.float64)
        sh = np.clip(np.trunc((channel_major / 8 + 0.5) * 256), 0, 255).astype(np.uint8).tobytes()
    lines = [
        "ply",
        "format binary_little_endian 1.0",
        "comment Generated by FaceLift Desktop",
        f"element chunk {n_chunks}",
        *(f"property float {p}" for p in CHUNK_PROPS),
        f"element vertex {n}",
        *(f"property uint {p}" for p in VERTEX_PROPS),
    ]
    if k:
        lines += [f"element sh {n}", *(f"property uchar f_rest_{i}" for i in range(3 * k))]
    header = ("\n".join([*lines, "end_header"]) + "\n").encode("ascii")
    vertex = words.reshape(-1, 4)[:n].astype("<u4").tobytes()
    return header, chunk_data.astype("<f4").tobytes(), vertex, sh


def save_compressed_ply(g: Gaussians, path: str | os.PathLike[str]) -> None:
    """Write ``g`` as a PlayCanvas compressed PLY at ``path`` (atomic: temp + rename)."""
    path = Path(path)
    parts = encode_compressed_ply(g, path)
    with atomic_write(path) as tmp, open(tmp, "wb") as fh:
        for part in parts:
            fh.write(part)


# ======================================================================================
# Reading (called by engine.io.ply.load_ply for a vertex element with packed_position)
# ======================================================================================


def _fail(path: Path, problem: str) -> InputError:
    return InputError(f"{path}: compressed PLY: {problem}")


def _check_layout(path: Path, header: PlyHeader) -> tuple[int, int, int]:
    """(chunks, vertices, SH values per vertex) after checking the elements and their types."""
    if header.fmt != "<":
        raise _fail(path, "only binary_little_endian files exist in this layout")
    names = [e.name for e in header.elements]
    if names not in (["chunk", "vertex"], ["chunk", "vertex", "sh"]):
        raise _fail(path, f"expected the elements chunk, vertex[, sh], found {', '.join(names)}")
    chunk, vertex = header.elements[0], header.elements[1]
    chunk_names = [p for p, _ in chunk.props]
    if chunk_names not in (list(CHUNK_PROPS), list(CHUNK_PROPS[:12])) or any(
        t != "f4" for _, t in chunk.props
    ):
        raise _fail(path, "the chunk element needs the 12 or 18 float min/max properties in order")
    if [p for p, _ in vertex.props] != list(VERTEX_PROPS) or any(t != "u4" for _, t in vertex.props):
        raise _fail(path, f"the vertex element needs uint {' '.join(VERTEX_PROPS)}")
    if chunk.count != -(-vertex.count // CHUNK):
        raise _fail(path, f"{chunk.count} chunks do not fit {vertex.count} Gaussians ({CHUNK} per chunk)")
    sh_count = 0
    if len(header.elements) == 3:
        sh = header.elements[2]
        sh_count = len(sh.props)
        if sh_count not in _SH_REST_COUNTS or [p for p, _ in sh.props] != [
            f"f_rest_{i}" for i in range(sh_count)
        ]:
            raise _fail(path, "the sh element needs f_rest_0.. with 9, 24 or 45 values")
        if any(t != "u1" for _, t in sh.props) or sh.count != vertex.count:
            raise _fail(path, "the sh element needs one row of uchar values per Gaussian")
    return chunk.count, vertex.count, sh_count


def _unorm(words: np.ndarray, shift: int, bits: int) -> np.ndarray:
    top = (1 << bits) - 1
    return ((words >> np.uint32(shift)) & np.uint32(top)).astype(np.float64) / top


def _lerp(lo: np.ndarray, hi: np.ndarray, t: np.ndarray) -> np.ndarray:
    return lo * (1 - t) + hi * t


def _unpack_rotation(words: np.ndarray) -> np.ndarray:
    """(N,4) quaternions in rot_0..rot_3 order from packed_rotation words (N,)."""
    abc = np.stack([(_unorm(words, s, 10) - 0.5) * np.sqrt(2.0) for s in (20, 10, 0)], axis=1)
    m = np.sqrt(np.maximum(0.0, 1.0 - (abc * abc).sum(axis=1)))
    which = (words >> np.uint32(30)).astype(np.int64)
    out = np.empty((len(words), 4))
    for i in range(4):
        others = [j for j in range(4) if j != i]
        rows = which == i
        out[rows, i] = m[rows]
        out[np.ix_(rows, others)] = abc[rows]
    return out


def read_compressed_body(path: Path, fh: BufferedReader, header: PlyHeader, file_size: int) -> Gaussians:
    """Decode the data after the header (``fh`` may sit anywhere) into Gaussians."""
    n_chunks, n, sh_count = _check_layout(path, header)
    chunk_row = row_dtype(header.elements[0], "<")
    need = n_chunks * chunk_row.itemsize + n * 16 + n * sh_count
    available = file_size - header.size
    if available < need:
        raise _fail(
            path, f"truncated: {n} Gaussians need {need} bytes after the header, the file has {available}"
        )
    if available > need:
        raise _fail(path, f"{available - need} bytes more than its {n} Gaussians need (wrong count?)")
    fh.seek(header.size)
    body = fh.read(need)
    if len(body) != need:
        raise _fail(path, "truncated while reading")
    at = n_chunks * chunk_row.itemsize
    chunks = np.frombuffer(body, chunk_row, n_chunks)
    words = np.frombuffer(body, "<u4", n * 4, at).reshape(n, 4).astype(np.uint32)
    sh_bytes = np.frombuffer(body, np.uint8, n * sh_count, at + n * 16).reshape(n, sh_count)

    def bounds(prefix: tuple[str, str, str]) -> tuple[np.ndarray, np.ndarray]:
        lo = np.stack([chunks[f"min_{p}"] for p in prefix], axis=1).astype(np.float64)
        hi = np.stack([chunks[f"max_{p}"] for p in prefix], axis=1).astype(np.float64)
        if not (np.isfinite(lo).all() and np.isfinite(hi).all()):
            raise _fail(path, "chunk bounds hold non-finite values")
        per = np.arange(n) // CHUNK
        return lo[per], hi[per]

    def field(col: int, shifts: tuple[int, ...], bits: tuple[int, ...]) -> np.ndarray:
        return np.stack([_unorm(words[:, col], s, b) for s, b in zip(shifts, bits)], axis=1)

    xyz = _lerp(*bounds(("x", "y", "z")), field(0, (21, 11, 0), (11, 10, 11)))
    log_scales = _lerp(*bounds(("scale_x", "scale_y", "scale_z")), field(2, (21, 11, 0), (11, 10, 11)))
    rgb = field(3, (24, 16, 8), (8, 8, 8))
    if len(header.elements[0].props) == len(CHUNK_PROPS):
        rgb = _lerp(*bounds(("r", "g", "b")), rgb)
    alpha = np.clip(_unorm(words[:, 3], 0, 8), _ALPHA_EPS, 1 - _ALPHA_EPS)
    k = sh_count // 3
    sh = (sh_bytes.astype(np.float64) + 0.5) / 256
    sh = np.where(sh_bytes == 0, 0.0, np.where(sh_bytes == 255, 1.0, sh))
    sh_rest = ((sh - 0.5) * 8).reshape(n, 3, k).transpose(0, 2, 1)
    try:
        return Gaussians(
            xyz=xyz,
            sh_dc=(rgb - 0.5) / SH_C0,
            sh_rest=sh_rest,
            log_scales=log_scales,
            quats=_unpack_rotation(words[:, 1]),
            opacity_logits=np.log(alpha / (1 - alpha)),
        )
    except InputError as exc:
        raise _fail(path, exc.message.removeprefix("Gaussians: ")) from None


def is_compressed_ply_name(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` ends in ``.compressed.ply`` (any case)."""
    return Path(path).name.lower().endswith(".compressed.ply")


__all__ = [
    "CHUNK",
    "encode_compressed_ply",
    "is_compressed_ply_name",
    "morton_order",
    "read_compressed_body",
    "save_compressed_ply",
]
