"""engine/io/compressed_ply.py: PlayCanvas's chunked, packed PLY, through engine.io.ply's loader."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from export_sets import angle_deg, random_set

from engine.api import InputError
from engine.gaussians import Gaussians
from engine.io.compressed_ply import CHUNK, encode_compressed_ply, morton_order, save_compressed_ply
from engine.io.gaussians_file import load_gaussians
from engine.io.ply import load_ply


def _chunk_ranges(g: Gaussians, values: np.ndarray) -> np.ndarray:
    """(N,k) per-Gaussian extent of its chunk of 256 (in Morton order) for values (N,k)."""
    n = len(g)
    per = np.arange(n) // CHUNK
    lo = np.minimum.reduceat(values, np.arange(0, n, CHUNK))
    hi = np.maximum.reduceat(values, np.arange(0, n, CHUNK))
    return (hi - lo)[per]


@pytest.mark.parametrize("degree", [0, 1, 3])
def test_round_trip_within_each_chunks_step(tmp_path: Path, degree: int) -> None:
    g = random_set(3000, degree=degree)
    out = tmp_path / "head.compressed.ply"
    save_compressed_ply(g, out)
    assert os.listdir(tmp_path) == ["head.compressed.ply"]
    back = load_ply(out)
    assert len(back) == len(g) and back.sh_degree == degree
    ref = g.subset(morton_order(g.xyz))  # the file is in Morton order
    steps = np.array([2047, 1023, 2047])
    pos_step = _chunk_ranges(ref, ref.xyz) / steps
    assert (np.abs(back.xyz - ref.xyz) <= pos_step / 2 + 1e-6).all()
    scale_step = _chunk_ranges(ref, ref.log_scales) / steps
    assert (np.abs(back.log_scales - ref.log_scales) <= scale_step / 2 + 1e-5).all()
    colour_step = _chunk_ranges(ref, ref.colors) / 255
    assert (np.abs(back.colors - ref.colors) <= colour_step / 2 + 1e-5).all()
    assert np.abs(back.opacities - ref.opacities).max() <= 0.5 / 255 + 1e-6
    assert angle_deg(back, ref).max() < 0.25
    if degree:
        assert np.abs(back.sh_rest - ref.sh_rest).max() <= 1 / 32 + 1e-6


def test_morton_order_makes_chunks_compact() -> None:
    g = random_set(256 * 40)
    order = morton_order(g.xyz)
    assert sorted(order.tolist()) == list(range(len(g)))
    # 40 chunks: each should hold a box of about 1/40 of the volume, not all of it
    sorted_volume = np.median(_chunk_ranges(g, g.xyz[order]).prod(axis=1))
    unsorted_volume = np.median(_chunk_ranges(g, g.xyz).prod(axis=1))
    assert sorted_volume < unsorted_volume / 10


def test_header_matches_splat_transform_layout() -> None:
    header, chunks, words, sh = encode_compressed_ply(random_set(300, degree=1))
    text = header.decode()
    assert text.startswith("ply\nformat binary_little_endian 1.0\n")
    assert "element chunk 2\n" in text and "element vertex 300\n" in text and "element sh 300\n" in text
    assert (
        text.index("property float min_x")
        < text.index("property float max_b")
        < text.index("packed_position")
    )
    assert text.count("property uchar f_rest_") == 9 and text.endswith("end_header\n")
    assert (len(chunks), len(words), len(sh)) == (2 * 18 * 4, 300 * 16, 300 * 9)


def test_opened_by_the_gaussians_loader(tmp_path: Path) -> None:
    g = random_set(700)
    save_compressed_ply(g, tmp_path / "x.compressed.ply")
    assert len(load_gaussians(tmp_path / "x.compressed.ply")) == 700


def test_degree_4_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="SH degree 3 at most"):
        save_compressed_ply(random_set(10, degree=4), tmp_path / "x.compressed.ply")
    assert os.listdir(tmp_path) == []


def _mangle_header(data: bytes, old: str, new: str) -> bytes:
    end = data.index(b"end_header\n") + len(b"end_header\n")
    return data[:end].replace(old.encode(), new.encode()) + data[end:]


@pytest.mark.parametrize(
    ("name", "mangle", "fragment"),
    [
        ("truncated", lambda b: b[:-100], "compressed PLY: truncated"),
        ("longer", lambda b: b + b"\0" * 64, "bytes more than its 600 Gaussians need"),
        (
            "chunks",
            lambda b: _mangle_header(b, "element chunk 3", "element chunk 2"),
            "2 chunks do not fit 600",
        ),
        (
            "props",
            lambda b: _mangle_header(b, "property uint packed_scale", "property float packed_scale"),
            "the vertex element needs uint",
        ),
        ("order", lambda b: _mangle_header(b, "float min_y", "float min_q"), "12 or 18 float min/max"),
        ("nan", lambda b: _nan_chunk(b), "chunk bounds hold non-finite values"),
    ],
)
def test_corrupt_files_are_one_line(tmp_path: Path, name: str, mangle, fragment: str) -> None:  # type: ignore[no-untyped-def]
    good = tmp_path / "good.compressed.ply"
    save_compressed_ply(random_set(600), good)
    bad = tmp_path / f"{name}.compressed.ply"
    bad.write_bytes(mangle(good.read_bytes()))
    with pytest.raises(InputError) as err:
        load_gaussians(bad)
    text = str(err.value)
    assert fragment in text and str(bad) in text and "\n" not in text


def _nan_chunk(data: bytes) -> bytes:
    at = data.index(b"end_header\n") + len(b"end_header\n")
    return data[:at] + np.float32(np.nan).tobytes() + data[at + 4 :]
