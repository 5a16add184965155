"""The PLY header: elements, their properties and types, the data format -- parsed once for
every PLY reader here (engine.io.ply's 3DGS layouts, engine.io.compressed_ply's packed one).

At most MAX_HEADER_BYTES are read; every problem is an InputError naming the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.errors import InputError

MAX_HEADER_BYTES = 64 * 1024

_PLY_TYPES: dict[str, str] = {
    "char": "i1",
    "int8": "i1",
    "uchar": "u1",
    "uint8": "u1",
    "short": "i2",
    "int16": "i2",
    "ushort": "u2",
    "uint16": "u2",
    "int": "i4",
    "int32": "i4",
    "uint": "u4",
    "uint32": "u4",
    "float": "f4",
    "float32": "f4",
    "double": "f8",
    "float64": "f8",
}
_FORMATS = {"binary_little_endian": "<", "binary_big_endian": ">", "ascii": "ascii"}


@dataclass
class PlyElement:
    name: str
    count: int
    props: list[tuple[str, str]]  # (name, numpy kind+size e.g. "f4")


@dataclass
class PlyHeader:
    fmt: str  # "<", ">" or "ascii"
    size: int  # bytes up to and including the end_header line
    elements: list[PlyElement]


def header_error(path: Path, problem: str) -> InputError:
    return InputError(f"{path}: {problem}")


def parse_header(path: Path, head: bytes) -> PlyHeader:
    if not head:
        raise header_error(path, "empty file, not a PLY")
    if not re.match(rb"ply\r?\n", head):
        raise header_error(path, "not a PLY file (it does not start with 'ply')")
    match = re.search(rb"(?:^|\n)end_header\r?\n", head)
    if match is None:
        if len(head) >= MAX_HEADER_BYTES:
            raise header_error(
                path, f"PLY header has no end_header in its first {MAX_HEADER_BYTES // 1024} KB"
            )
        raise header_error(path, "PLY header has no end_header line (truncated header?)")
    size = match.end()
    try:
        text = head[:size].decode("ascii")
    except UnicodeDecodeError:
        raise header_error(path, "PLY header is not ASCII text") from None
    fmt: str | None = None
    elements: list[PlyElement] = []
    for number, raw in enumerate(text.splitlines()[1:-1], start=2):
        words = raw.split()
        if not words or words[0] in ("comment", "obj_info"):
            continue
        key = words[0]
        if key == "format":
            if len(words) != 3 or words[1] not in _FORMATS or words[2] != "1.0":
                raise header_error(path, f"unsupported PLY format line {raw.strip()!r}")
            fmt = _FORMATS[words[1]]
        elif key == "element":
            if len(words) != 3 or not re.fullmatch(r"\d{1,19}", words[2]):
                raise header_error(path, f"bad element line {number}: {raw.strip()!r}")
            elements.append(PlyElement(words[1], int(words[2]), []))
        elif key == "property":
            if not elements:
                raise header_error(path, f"property before any element on header line {number}")
            if len(words) >= 2 and words[1] == "list":
                elements[-1].props.append((words[-1], "list"))
                continue
            if len(words) != 3:
                raise header_error(path, f"bad property line {number}: {raw.strip()!r}")
            if words[1] not in _PLY_TYPES:
                raise header_error(path, f"unsupported property type {words[1]!r} for {words[2]!r}")
            elements[-1].props.append((words[2], _PLY_TYPES[words[1]]))
        else:
            raise header_error(path, f"unknown PLY header line {number}: {raw.strip()[:60]!r}")
    if fmt is None:
        raise header_error(path, "PLY header has no format line")
    return PlyHeader(fmt, size, elements)


def row_dtype(element: PlyElement, byteorder: str) -> np.dtype:
    names = [name for name, _ in element.props]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InputError(f"element {element.name!r} repeats properties {dupes}")
    return np.dtype([(name, byteorder + kind) for name, kind in element.props])
