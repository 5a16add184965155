"""engine/io/spz.py: Niantic SPZ written (v2, v3) and read (v2, v3, v4) within its quantisation."""

from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path

import numpy as np
import pytest
from export_sets import angle_deg, random_set

from engine.api import InputError
from engine.gaussians import SH_C0, Gaussians
from engine.io.export import Y_UP_ROTATION
from engine.io.spz import decode_spz, encode_spz, load_spz, save_spz


@pytest.mark.parametrize("version", [2, 3])
def test_round_trip_within_the_quantisation(tmp_path: Path, version: int) -> None:
    """Columns as stored (encode/decode work in the file's frame): each within half a step."""
    g = random_set(degree=3)
    back = decode_spz(Path("x.spz"), encode_spz(g, version))
    assert len(back) == len(g) and back.sh_degree == 3
    assert np.abs(back.xyz - g.xyz).max() <= 0.5 / 4096 + 1e-6  # 12 fractional bits
    assert np.abs(back.log_scales - g.log_scales).max() <= 0.5 / 16 + 1e-5
    assert np.abs(back.opacities - g.opacities).max() <= 0.5 / 255 + 1e-6
    assert np.abs(back.sh_rest[:, :3] - g.sh_rest[:, :3]).max() <= 4.5 / 128  # 5 bits: buckets of 8
    assert np.abs(back.sh_rest[:, 3:] - g.sh_rest[:, 3:]).max() <= 8.5 / 128  # 4 bits: buckets of 16
    worst = 1.0 if version == 3 else 15.0  # v2 rebuilds w from x,y,z: poor when w is small
    assert angle_deg(back, g).max() < worst
    assert np.median(angle_deg(back, g)) < (0.2 if version == 3 else 1.0)


def test_saved_file_round_trips_through_the_frame_change(tmp_path: Path) -> None:
    g = random_set(degree=1)
    out = tmp_path / "head.spz"
    save_spz(g, out)
    assert os.listdir(tmp_path) == ["head.spz"]
    back = load_spz(out)
    assert len(back) == len(g)
    assert np.abs(back.xyz - g.xyz).max() <= 0.5 / 4096 + 1e-6
    assert np.abs(back.colors - g.colors).max() <= 0.5 * 0.15 * SH_C0 * 2 + 1e-6
    assert angle_deg(back, g).max() < 15.0
    # band 1 rotates as a 3-vector: its error is at most the stored error's length
    assert np.linalg.norm(back.sh_rest - g.sh_rest, axis=1).max() <= np.sqrt(3) * 4.5 / 128


def test_colours_within_half_a_byte() -> None:
    """The colour bytes are round(f_dc * 0.15 * 255 + 127.5): every value comes back within half a byte."""
    g = random_set(seed=3)
    back = decode_spz(Path("x.spz"), encode_spz(g))
    step = 1 / (0.15 * 255)
    assert np.abs(back.sh_dc - g.sh_dc).max() <= step / 2 + 1e-5


def test_file_is_rub_and_reads_back_upright(tmp_path: Path) -> None:
    """The stored numbers are RUB (y up, face toward +z): the nose tip (most -y in FaceLift) is the
    most +z point in the file; the reader maps it back."""
    g = random_set(200)
    out = tmp_path / "head.spz"
    save_spz(g, out)
    raw = decode_spz(out, out.read_bytes())
    np.testing.assert_allclose(raw.xyz, g.xyz @ Y_UP_ROTATION.T, atol=1 / 4096)
    np.testing.assert_allclose(load_spz(out).xyz, g.xyz, atol=1 / 4096)


def test_header_and_gzip_layout(tmp_path: Path) -> None:
    g = random_set(10, degree=1)
    payload = gzip.decompress(encode_spz(g, version=2))
    assert struct.unpack_from("<IIIBBBB", payload) == (0x5053474E, 2, 10, 1, 12, 0, 0)
    assert len(payload) == 16 + 10 * (9 + 1 + 3 + 3 + 3 + 9)


def test_reads_version_4_zstd(tmp_path: Path) -> None:
    """A v4 file (32-byte header, table of contents, one zstd stream per column)."""
    import zstandard

    g = random_set(500, degree=1)
    payload = gzip.decompress(encode_spz(g, version=3))
    n, cols, at = len(g), [], 16
    for size in (n * 9, n, n * 3, n * 3, n * 4, n * 9):
        cols.append(payload[at : at + size])
        at += size
    packed = [zstandard.ZstdCompressor().compress(c) for c in cols]
    header = struct.pack("<IIIBBBBI12x", 0x5053474E, 4, n, 1, 12, 0, len(cols), 32)
    toc = b"".join(struct.pack("<QQ", len(p), len(c)) for p, c in zip(packed, cols))
    v4 = header + toc + b"".join(packed)
    from_v4 = decode_spz(Path("x.spz"), v4)
    from_v3 = decode_spz(Path("x.spz"), encode_spz(g, version=3))
    for field in ("xyz", "sh_dc", "sh_rest", "log_scales", "quats", "opacity_logits"):
        np.testing.assert_array_equal(getattr(from_v4, field), getattr(from_v3, field))


def test_empty_set_round_trips(tmp_path: Path) -> None:
    save_spz(Gaussians.empty(), tmp_path / "none.spz")
    assert len(load_spz(tmp_path / "none.spz")) == 0


@pytest.mark.parametrize(
    ("name", "mangle", "fragment"),
    [
        ("empty", lambda b: b"", "empty file, not an SPZ file"),
        ("text", lambda b: b"hello world", "not an SPZ file"),
        ("truncated", lambda b: b[: len(b) // 2], "truncated SPZ file"),
        ("flipped", lambda b: b[:40] + bytes(x ^ 0x5A for x in b[40:80]) + b[80:], "corrupt SPZ"),
        ("magic", lambda b: gzip.compress(b"XXXX" + gzip.decompress(b)[4:]), "bad magic number"),
        (
            "version",
            lambda b: gzip.compress(_patch(gzip.decompress(b), 4, 9)),
            "SPZ version 9 is not supported",
        ),
        ("short", lambda b: gzip.compress(gzip.decompress(b)[:-7]), "truncated SPZ file"),
        (
            "long",
            lambda b: gzip.compress(gzip.decompress(b) + b"\0" * 9),
            "more data than its 50 points need",
        ),
    ],
)
def test_corrupt_files_are_one_line(tmp_path: Path, name: str, mangle, fragment: str) -> None:  # type: ignore[no-untyped-def]
    good = encode_spz(random_set(50))
    bad = tmp_path / f"{name}.spz"
    bad.write_bytes(mangle(good))
    with pytest.raises(InputError) as err:
        load_spz(bad)
    text = str(err.value)
    assert fragment in text and str(bad) in text and "\n" not in text


def _patch(payload: bytes, offset: int, value: int) -> bytes:
    return payload[:offset] + struct.pack("<I", value) + payload[offset + 4 :]


def test_positions_out_of_range_are_refused(tmp_path: Path) -> None:
    g = random_set(5).replace(xyz=np.full((5, 3), 3000.0))
    with pytest.raises(InputError, match="cannot be stored in SPZ"):
        save_spz(g, tmp_path / "far.spz")
    assert os.listdir(tmp_path) == []
