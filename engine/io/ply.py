"""Gaussian-splat PLY files: the FaceLift layout, the plain INRIA 3DGS layout, and a loader
for any standard 3DGS PLY.

Writers (``save_ply``), column-wise through numpy structured arrays, atomically:

* ``flavour="facelift"`` -- byte for byte what FaceLift's ``GaussianModel.save_ply`` writes
  (spec §6.3): ``x y z`` float, ``red green blue`` uchar, ``f_dc_0..2``, ``f_rest_0..44``,
  ``opacity``, ``scale_0..2``, ``rot_0..3`` float; binary little endian; no comments. The
  colour bytes are trunc(clip((0.5 + C0*f_dc)*255, 0, 255)) computed in float32. Sets of SH
  degree < 3 are padded to the degree-3 layout with zero coefficients (degree 0: 45 zeros);
  degree 4 writes its 72 values.
* ``flavour="inria"`` -- graphdeco-inria's layout: ``x y z nx ny nz f_dc_0..2 f_rest_*
  opacity scale_0..2 rot_0..3``, all float, normals zero, f_rest count for the set's degree.

f_rest is channel-major in both: f_rest_0..K-1 are the red coefficients 1..K, then green,
then blue (INRIA's ``features_rest.transpose(1,2).flatten()``).

The loader (``load_ply``) reads binary little/big endian and ascii PLYs, any SH degree 0..4
(from the f_rest count 3*((d+1)^2-1)), properties in any order, extra properties and
elements ignored. The header is parsed here (at most 64 KB), and the vertex count is
checked against the file size before anything is allocated. A file whose f_rest values are
all zero loads as SH degree 0 (it renders the same; FaceLift files carry 45 zero f_rest).
A PLY whose vertex element holds ``packed_position`` is PlayCanvas's compressed layout and is
read by :mod:`engine.io.compressed_ply`. Every problem raises :class:`engine.api.InputError`
with one line naming the file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from io import BufferedReader
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np

from engine.errors import InputError
from engine.gaussians import Gaussians
from engine.io.atomic import atomic_write
from engine.io.ply_header import MAX_HEADER_BYTES, PlyElement, PlyHeader, parse_header, row_dtype
from engine.io.ply_header import header_error as _fail
from engine.sh import SH_C0

Flavour = Literal["facelift", "inria"]

_CHUNK_BYTES = 1 << 21  # rows are written and read in ~2 MB chunks (cache-sized)
_FACELIFT_REST_COEFFS = 15  # degree-3 layout: 15 coefficients per channel, 45 f_rest

_VALID_REST_COUNTS = {3 * ((d + 1) ** 2 - 1): d for d in range(5)}


# ======================================================================================
# Writing
# ======================================================================================


def _layout(flavour: str, coeffs: int) -> tuple[np.dtype, list[str]]:
    """The packed row dtype (grouped sub-array fields) and the header property lines.

    f_rest is a (3, coeffs) sub-array: channel-major, exactly the bytes of f_rest_0..3*coeffs-1.
    """
    if flavour == "facelift":
        groups: list[tuple[str, str, tuple[int, ...], list[str]]] = [
            ("xyz", "<f4", (3,), ["x", "y", "z"]),
            ("rgb", "u1", (3,), ["red", "green", "blue"]),
        ]
    elif flavour == "inria":
        groups = [("xyz", "<f4", (3,), ["x", "y", "z"]), ("normal", "<f4", (3,), ["nx", "ny", "nz"])]
    else:
        raise ValueError(f"unknown PLY flavour {flavour!r} (use 'facelift' or 'inria')")
    groups += [
        ("f_dc", "<f4", (3,), [f"f_dc_{i}" for i in range(3)]),
        ("f_rest", "<f4", (3, coeffs), [f"f_rest_{i}" for i in range(3 * coeffs)]),
        ("opacity", "<f4", (), ["opacity"]),
        ("scale", "<f4", (3,), [f"scale_{i}" for i in range(3)]),
        ("rot", "<f4", (4,), [f"rot_{i}" for i in range(4)]),
    ]
    fields = [(name, fmt, shape) for name, fmt, shape, props in groups if props]
    lines = [
        f"property {'uchar' if fmt == 'u1' else 'float'} {p}" for _n, fmt, _s, props in groups for p in props
    ]
    return np.dtype(fields), lines


def _chunk_rows(itemsize: int) -> int:
    """Rows per chunk: a buffer of about _CHUNK_BYTES, so every field copy stays in cache."""
    return max(256, _CHUNK_BYTES // max(1, itemsize))


def ply_header(count: int, property_lines: Sequence[str]) -> bytes:
    """The exact header FaceLift writes (no comments)."""
    text = f"ply\nformat binary_little_endian 1.0\nelement vertex {count}\n"
    return (text + "".join(line + "\n" for line in property_lines) + "end_header\n").encode("ascii")


def colour_bytes(sh_dc: np.ndarray) -> np.ndarray:
    """(N,3) float32 SH DC -> (N,3) uint8 as FaceLift stores them: truncated, float32 math."""
    c = (np.float32(0.5) + np.float32(SH_C0) * sh_dc.astype(np.float32)) * np.float32(255.0)
    return np.clip(c, np.float32(0.0), np.float32(255.0)).astype(np.uint8)


def save_ply(gaussians: Gaussians, path: Path | str, flavour: Flavour = "facelift") -> None:
    """Write ``gaussians`` as a binary little-endian PLY at ``path`` (atomic: temp + rename).

    flavour "facelift": FaceLift's 62-property layout (degree <= 3 padded to 45 f_rest);
    "inria": the plain 3DGS layout with normals and 3*K f_rest. Raises OutputError when
    the file cannot be written; a failed or interrupted write leaves no file behind.
    """
    if flavour not in ("facelift", "inria"):
        raise ValueError(f"unknown PLY flavour {flavour!r} (use 'facelift' or 'inria')")
    k = gaussians.sh_rest.shape[1]
    coeffs = max(k, _FACELIFT_REST_COEFFS) if flavour == "facelift" else k
    row, lines = _layout(flavour, coeffs)
    n = len(gaussians)
    # One small buffer reused for every chunk: the padding (normals, missing SH bands) is
    # zeroed once, and each chunk's field copies stay in the CPU cache.
    buf = np.zeros(min(n, _chunk_rows(row.itemsize)), dtype=row)
    with atomic_write(Path(path)) as tmp, open(tmp, "wb") as fh:
        fh.write(ply_header(n, lines))
        for start in range(0, n, len(buf) or 1):
            stop = min(n, start + len(buf))
            _fill_rows(buf[: stop - start], gaussians, slice(start, stop), flavour, k)
            fh.write(buf[: stop - start].data)


def _fill_rows(out: np.ndarray, g: Gaussians, sl: slice, flavour: str, k: int) -> None:
    """Copy rows ``sl`` of ``g`` into the structured chunk ``out`` (padding left untouched)."""
    out["xyz"] = g.xyz[sl]
    if flavour == "facelift":
        out["rgb"] = colour_bytes(g.sh_dc[sl])
    out["f_dc"] = g.sh_dc[sl]
    if k:
        out["f_rest"][:, :, :k] = g.sh_rest[sl].transpose(0, 2, 1)  # (N,K,3) -> channel-major
    out["opacity"] = g.opacity_logits[sl]
    out["scale"] = g.log_scales[sl]
    out["rot"] = g.quats[sl]


# ======================================================================================
# Reading
# ======================================================================================


def _skip_lists(path: Path, element: PlyElement, what: str) -> None:
    lists = [name for name, kind in element.props if kind == "list"]
    if lists:
        raise _fail(path, f"{what} has list properties ({', '.join(lists)}), which are not supported")


def load_ply(path: Path | str) -> Gaussians:
    """Read a 3DGS PLY into :class:`Gaussians` (float32, read-only arrays).

    Needs x y z, f_dc_0..2, opacity, scale_0..2, rot_0..3 on the ``vertex`` element;
    f_rest_* (sorted by number) set the SH degree. A PLY with 0 vertices gives an empty set.
    Raises InputError (one line naming the file) for anything unusable.
    """
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            file_size = os.fstat(fh.fileno()).st_size
            header = parse_header(path, fh.read(MAX_HEADER_BYTES))
            return _read_body(path, fh, header, file_size)
    except FileNotFoundError:
        raise _fail(path, "file not found") from None
    except IsADirectoryError:
        raise _fail(path, "is a folder, not a PLY file") from None
    except PermissionError:
        raise _fail(path, "permission denied") from None
    except MemoryError:
        raise _fail(path, "not enough memory to read this PLY") from None
    except OSError as exc:
        raise _fail(path, f"cannot read ({exc.strerror or exc})") from None


def _read_body(path: Path, fh: BufferedReader, header: PlyHeader, file_size: int) -> Gaussians:
    vertex_at = next((i for i, e in enumerate(header.elements) if e.name == "vertex"), None)
    if vertex_at is None:
        raise _fail(path, "PLY has no 'vertex' element")
    vertex = header.elements[vertex_at]
    _skip_lists(path, vertex, "the vertex element")
    if any(name == "packed_position" for name, _ in vertex.props):
        from engine.io.compressed_ply import read_compressed_body

        return read_compressed_body(path, fh, header, file_size)
    try:
        row = row_dtype(vertex, "<" if header.fmt == "ascii" else header.fmt)
    except InputError as exc:
        raise _fail(path, exc.message) from None
    columns = _resolve_columns(path, [name for name, _ in vertex.props])
    n = vertex.count
    available = file_size - header.size
    if header.fmt == "ascii":
        data = _read_ascii(path, fh, header, vertex_at, row, available)
    else:  # binary
        offset = header.size
        for before in header.elements[:vertex_at]:
            _skip_lists(path, before, f"element {before.name!r} before the vertex data")
            offset += before.count * row_dtype(before, header.fmt).itemsize
        need = offset - header.size + n * row.itemsize
        if need > available:
            raise _fail(
                path,
                f"truncated or wrong vertex count: the header announces {n} vertices "
                f"({need} bytes of data) but the file has {available} bytes after the header",
            )
        if vertex_at == len(header.elements) - 1 and available - need >= row.itemsize:
            raise _fail(
                path,
                f"wrong vertex count: the header announces {n} vertices but the file holds "
                f"{(available - offset + header.size) // row.itemsize} after the header",
            )
        fh.seek(offset)
        return _to_gaussians(path, _read_binary(path, fh, row, n, columns))
    return _to_gaussians(path, _Columns(n, columns).add(data, 0))


def _read_binary(
    path: Path, fh: BufferedReader, row: np.dtype, n: int, columns: dict[str, list[str]]
) -> _Columns:
    """Read n rows in cache-sized chunks into one reused buffer, scattering into columns."""
    out = _Columns(n, columns)
    buf = np.empty(min(n, _chunk_rows(row.itemsize)), dtype=row)
    for start in range(0, n, len(buf) or 1):
        chunk = buf[: min(len(buf), n - start)]
        got = fh.readinto(chunk.view(np.uint8).data)
        if got != chunk.nbytes:
            raise _fail(path, f"truncated: the file ended inside vertex {start + (got or 0) // row.itemsize}")
        out.add(chunk, start)
    return out


def _read_ascii(
    path: Path, fh: BufferedReader, header: PlyHeader, vertex_at: int, row: np.dtype, available: int
) -> np.ndarray:
    n = header.elements[vertex_at].count
    props = len(row.names or ())
    # Every value takes at least one character and one separator: a cheap bound that stops
    # a hostile count before any parsing or allocation.
    if n * props * 2 > available + 1:
        raise _fail(path, f"truncated or wrong vertex count: the header announces {n} vertices")
    fh.seek(header.size)
    for before in header.elements[:vertex_at]:
        for _ in range(before.count):
            if not fh.readline():
                raise _fail(path, f"truncated in element {before.name!r}")
    lines = []
    for _ in range(n):
        line = fh.readline()
        if not line:
            raise _fail(path, f"truncated: the header announces {n} vertices, the file has fewer lines")
        lines.append(line)
    if vertex_at == len(header.elements) - 1 and any(line.strip() for line in fh):
        raise _fail(path, f"wrong vertex count: more ascii vertex lines than the {n} the header announces")
    try:
        values = np.loadtxt(lines, dtype=np.float64, ndmin=2, comments=None) if n else np.zeros((0, props))
    except ValueError as exc:
        raise _fail(path, f"bad ascii vertex data ({str(exc).splitlines()[0]})") from None
    if values.shape != (n, props):
        raise _fail(path, f"ascii vertex lines need {props} values each, got shape {values.shape}")
    data = np.empty(n, dtype=row)
    for i, name in enumerate(row.names or ()):
        data[name] = values[:, i]
    return data


_REQUIRED = {
    "xyz": ["x", "y", "z"],
    "f_dc": ["f_dc_0", "f_dc_1", "f_dc_2"],
    "opacity": ["opacity"],
    "scale": ["scale_0", "scale_1", "scale_2"],
    "rot": ["rot_0", "rot_1", "rot_2", "rot_3"],
}


def _resolve_columns(path: Path, names: list[str]) -> dict[str, list[str]]:
    present = set(names)
    missing = [p for props in _REQUIRED.values() for p in props if p not in present]
    if missing:
        raise _fail(path, f"not a 3D Gaussian-splat PLY: missing vertex properties {' '.join(missing)}")
    rest = sorted(
        ((int(m.group(1)), name) for name in names if (m := re.fullmatch(r"f_rest_(\d+)", name))),
    )
    count = len(rest)
    if count not in _VALID_REST_COUNTS:
        raise _fail(path, f"{count} f_rest properties do not match any SH degree 0..4 (3*((d+1)^2-1))")
    if [i for i, _ in rest] != list(range(count)):
        raise _fail(path, f"f_rest properties are not numbered 0..{count - 1}")
    return {**_REQUIRED, "f_rest": [name for _, name in rest]}


def _gather(rows: np.ndarray, names: list[str]) -> np.ndarray:
    """(M, len(names)) values of some columns of structured rows, in their stored dtype.

    When the columns sit next to each other with one dtype (the usual case) this is a
    strided view, so the caller's single assignment does the copy and the float32 cast.
    """
    fields = rows.dtype.fields or {}
    first_type, first_offset = fields[names[0]][:2]
    adjacent = all(
        fields[name][0] == first_type and fields[name][1] == first_offset + i * first_type.itemsize
        for i, name in enumerate(names)
    )
    if adjacent:
        view_dtype = np.dtype(
            {
                "names": ["g"],
                "formats": [(first_type, (len(names),))],
                "offsets": [first_offset],
                "itemsize": rows.dtype.itemsize,
            }
        )
        return rows.view(view_dtype)["g"]
    out = np.empty((len(rows), len(names)), np.float64)
    for i, name in enumerate(names):
        out[:, i] = rows[name]
    return out


class _Columns:
    """The Gaussians' float32 arrays, filled chunk by chunk from structured vertex rows.

    sh_rest is allocated only when a non-zero f_rest value turns up: FaceLift's files carry
    45 zero f_rest per Gaussian, and those load as SH degree 0 without a 270 MB array.
    """

    _SHAPES: ClassVar[dict[str, int]] = {"xyz": 3, "f_dc": 3, "scale": 3, "rot": 4, "opacity": 1}

    def __init__(self, n: int, columns: dict[str, list[str]]) -> None:
        self.n = n
        self.columns = columns
        self.k = len(columns["f_rest"]) // 3
        self.arrays = {key: np.empty((n, width), np.float32) for key, width in self._SHAPES.items()}
        self.rest: np.ndarray | None = None  # (n, k, 3) once needed

    def add(self, rows: np.ndarray, start: int) -> _Columns:
        stop = start + len(rows)
        for key, arr in self.arrays.items():
            arr[start:stop] = _gather(rows, self.columns[key])
        if self.k:
            flat = _gather(rows, self.columns["f_rest"])
            if flat.any():
                if self.rest is None:
                    self.rest = np.zeros((self.n, self.k, 3), np.float32)
                # channel-major R..., G..., B... -> (M, K, 3)
                self.rest[start:stop] = flat.reshape(len(rows), 3, self.k).transpose(0, 2, 1)
        return self


def _to_gaussians(path: Path, cols: _Columns) -> Gaussians:
    a = cols.arrays
    sh_rest = cols.rest if cols.rest is not None else np.zeros((cols.n, 0, 3), np.float32)
    try:
        return Gaussians(
            xyz=a["xyz"],
            sh_dc=a["f_dc"],
            sh_rest=sh_rest,
            log_scales=a["scale"],
            quats=a["rot"],
            opacity_logits=a["opacity"].reshape(cols.n),
        )
    except InputError as exc:
        raise _fail(path, exc.message.removeprefix("Gaussians: ")) from None


__all__ = [
    "MAX_HEADER_BYTES",
    "PlyElement",
    "PlyHeader",
    "colour_bytes",
    "load_ply",
    "parse_header",
    "ply_header",
    "row_dtype",
    "save_ply",
]
