"""Hostile and broken PLY files, shared by the loader's unit tests (tests/foundation/test_ply.py)
and the reliability matrix's PLY import cases (tests/reliability/test_ply_import.py).

Each :class:`HostileCase` builds the bytes of one bad file and lists the fragments the one-line
``InputError`` must contain. Import with ``sys.path`` pointing at tests/ (as tests/gui/fakes.py
is imported): ``from hostile_ply import HOSTILE_CASES, write_case``.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from plyfile import PlyData, PlyElement

SPLAT_PROPS: tuple[str, ...] = (
    "x",
    "y",
    "z",
    "f_dc_0",
    "f_dc_1",
    "f_dc_2",
    "opacity",
    "scale_0",
    "scale_1",
    "scale_2",
    "rot_0",
    "rot_1",
    "rot_2",
    "rot_3",
)
"""The 14 float properties of a minimal degree-0 3DGS vertex, in this order."""

GOOD_HEADER = (
    "ply\nformat binary_little_endian 1.0\nelement vertex {n}\n"
    + "".join(f"property float {p}\n" for p in SPLAT_PROPS)
    + "end_header\n"
)
"""A valid binary header for ``n`` minimal vertices (``GOOD_HEADER.format(n=...)``)."""

HUGE_COUNT = 10**12


def good_body(n: int) -> bytes:
    """``n`` all-zero minimal vertices (14 little-endian float32 each)."""
    return np.zeros((n, 14), "<f4").tobytes()


def good_ply(n: int = 3) -> bytes:
    """A complete, valid minimal PLY of ``n`` vertices (the baseline every case breaks)."""
    return GOOD_HEADER.format(n=n).encode() + good_body(n)


def _header(n: int = 1, *, fmt: str = "binary_little_endian", replace: tuple[str, str] = ("", "")) -> str:
    head = GOOD_HEADER.format(n=n).replace("binary_little_endian", fmt)
    return head.replace(*replace) if replace[0] else head


def huge_count(fmt: str) -> bytes:
    """A header announcing 10^12 vertices in format ``fmt`` followed by a little data."""
    body = b"0 " * 14 + b"\n" if fmt == "ascii" else good_body(10)
    return _header(HUGE_COUNT, fmt=fmt).encode() + body


def _non_finite(bad: float) -> bytes:
    body = np.zeros((4, 14), "<f4")
    body[2, 6] = bad  # opacity of vertex 2
    return GOOD_HEADER.format(n=4).encode() + body.tobytes()


def _double_beyond_float32() -> bytes:
    body = np.zeros(1, dtype=[("x", "<f8")] + [(f"c{i}", "<f4") for i in range(13)])
    body["x"] = 1e300
    return _header(replace=("property float x", "property double x")).encode() + body.tobytes()


def _plyfile_bytes(*elements: PlyElement) -> bytes:
    out = io.BytesIO()
    PlyData(list(elements)).write(out)
    return out.getvalue()


def _point_cloud() -> bytes:
    pts = np.zeros(
        3, dtype=[("x", "f4"), ("y", "f4"), ("z", "f4"), ("red", "u1"), ("green", "u1"), ("blue", "u1")]
    )
    return _plyfile_bytes(PlyElement.describe(pts, "vertex"))


def _compressed() -> bytes:
    chunk = np.zeros(1, dtype=[(n, "f4") for n in ("min_x", "max_x")])
    names = ("packed_position", "packed_rotation", "packed_scale", "packed_color")
    vert = np.zeros(3, dtype=[(n, "u4") for n in names])
    return _plyfile_bytes(PlyElement.describe(chunk, "chunk"), PlyElement.describe(vert, "vertex"))


def _bad_header_line(line: str) -> bytes:
    lines = GOOD_HEADER.format(n=1).split("\n")
    key = line.split()[0]
    if key in ("format", "element"):
        lines = [line if ln.startswith(key) else ln for ln in lines]
    else:
        lines.insert(2, line)
    return "\n".join(lines).encode() + good_body(1)


def _extra_props(props: str, floats: int) -> bytes:
    head = _header(replace=("end_header", props + "end_header"))
    return head.encode() + np.zeros(floats, "<f4").tobytes()


def _ascii(n: int, body: str) -> bytes:
    return (_header(n, fmt="ascii") + body).encode()


@dataclass(frozen=True)
class HostileCase:
    """One broken file: ``name`` (also its file stem), its bytes, what the error must say."""

    name: str
    build: Callable[[], bytes]
    fragments: tuple[str, ...]

    def data(self) -> bytes:
        return self.build()


HOSTILE_CASES: tuple[HostileCase, ...] = (
    HostileCase("empty", lambda: b"", ("empty",)),
    HostileCase("text", lambda: b"hello world\n" * 10, ("not a PLY",)),
    HostileCase("png_bytes", lambda: b"\x89PNG\r\n\x1a\n" + bytes(100), ("not a PLY",)),
    HostileCase("two_bytes", lambda: b"pl", ("not a PLY",)),
    HostileCase(
        "no_end_header", lambda: GOOD_HEADER.format(n=3).replace("end_header\n", "").encode(), ("end_header",)
    ),
    HostileCase(
        "endless_header",
        lambda: b"ply\nformat binary_little_endian 1.0\ncomment " + b"a" * (10 * 1024 * 1024),
        ("end_header", "64 KB"),
    ),
    HostileCase("truncated", lambda: good_ply(100)[:-10], ("truncated", "100 vertices")),
    HostileCase(
        "count_too_small",
        lambda: GOOD_HEADER.format(n=5).encode() + good_body(100),
        ("wrong vertex count",),
    ),
    HostileCase("huge_count_le", lambda: huge_count("binary_little_endian"), (f"{HUGE_COUNT} vertices",)),
    HostileCase("huge_count_be", lambda: huge_count("binary_big_endian"), (f"{HUGE_COUNT} vertices",)),
    HostileCase("huge_count_ascii", lambda: huge_count("ascii"), (f"{HUGE_COUNT} vertices",)),
    HostileCase(
        "huge_element_before_vertex",
        lambda: (
            _header(
                replace=("element vertex", "element junk 999999999999\nproperty double v\nelement vertex")
            ).encode()
            + good_body(1)
        ),
        ("truncated",),
    ),
    HostileCase("nan", lambda: _non_finite(np.nan), ("opacity", "non-finite")),
    HostileCase("inf", lambda: _non_finite(np.inf), ("opacity", "non-finite")),
    HostileCase("minus_inf", lambda: _non_finite(-np.inf), ("opacity", "non-finite")),
    HostileCase("double_beyond_float32", _double_beyond_float32, ("non-finite",)),
    HostileCase(
        "missing_properties",
        lambda: (
            GOOD_HEADER.format(n=1)
            .replace("property float rot_3\n", "")
            .replace("property float opacity\n", "")
            .encode()
            + np.zeros(12, "<f4").tobytes()
        ),
        ("missing", "opacity", "rot_3"),
    ),
    HostileCase("point_cloud", _point_cloud, ("missing", "f_dc_0")),
    HostileCase(
        "f_rest_count",
        lambda: _extra_props("property float f_rest_0\nproperty float f_rest_1\n", 16),
        ("f_rest",),
    ),
    HostileCase(
        "f_rest_gap",
        lambda: _extra_props("".join(f"property float f_rest_{i}\n" for i in [*range(8), 9]), 23),
        ("numbered",),
    ),
    HostileCase("list_property", lambda: _extra_props("property list uchar int idx\n", 15), ("list",)),
    HostileCase(
        "half_type",
        lambda: (
            _header(replace=("property float x", "property half x")).encode() + np.zeros(14, "<f4").tobytes()
        ),
        ("half",),
    ),
    HostileCase(
        "duplicate_property",
        lambda: _header(replace=("property float y", "property float x")).encode() + good_body(1),
        ("repeats",),
    ),
    HostileCase("middle_endian", lambda: _bad_header_line("format binary_middle_endian 1.0"), ("format",)),
    HostileCase("format_2_0", lambda: _bad_header_line("format binary_little_endian 2.0"), ("format",)),
    HostileCase("negative_count", lambda: _bad_header_line("element vertex -5"), ("element",)),
    HostileCase("count_not_a_number", lambda: _bad_header_line("element vertex many"), ("element",)),
    HostileCase("unknown_header_line", lambda: _bad_header_line("bogus line"), ("header line",)),
    HostileCase(
        "no_vertex_element",
        lambda: _header(replace=("element vertex", "element point")).encode() + good_body(1),
        ("vertex",),
    ),
    HostileCase("ascii_too_few_lines", lambda: _ascii(3, ("0 " * 14 + "\n") * 2), ("truncated",)),
    HostileCase("ascii_bad_numbers", lambda: _ascii(2, "0 " * 14 + "\n" + "0 " * 13 + "zero\n"), ("ascii",)),
    HostileCase("ascii_short_lines", lambda: _ascii(2, "0 " * 14 + "\n" + "0 " * 12 + "\n"), ("ascii",)),
    HostileCase("compressed", _compressed, ("compressed",)),
)
"""Every hostile file case; each must give an InputError naming the file and its fragments."""

CASE_IDS = [case.name for case in HOSTILE_CASES]


def write_case(folder: Path, case: HostileCase, suffix: str = ".ply") -> Path:
    """Write ``case`` as ``folder/<name><suffix>`` and return its path."""
    path = folder / f"{case.name}{suffix}"
    path.write_bytes(case.data())
    return path
