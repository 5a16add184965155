"""load_photo / save_png: every kind of photo a person might drop, and every bad input."""

from __future__ import annotations

import struct
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.api import InputError, OutputError
from engine.io import images
from engine.io.images import load_photo, load_photo_rgba, save_png


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _raw_png(width: int, height: int, bit_depth: int, color_type: int, rows: bytes | None) -> bytes:
    """A PNG written by hand (PIL cannot write 16-bit RGB); rows=None gives a header-only file."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    body = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr)
    if rows is not None:
        body += _png_chunk(b"IDAT", zlib.compress(rows))
    return body + _png_chunk(b"IEND", b"")


def _gradient(h: int = 48, w: int = 64) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 255 // (w - 1), y * 255 // (h - 1), np.full_like(x, 90)], -1).astype(np.uint8)


def _assert_one_line_naming(err: pytest.ExceptionInfo[InputError], path: Path) -> None:
    msg = str(err.value)
    assert "\n" not in msg
    assert str(path) in msg


# ---------------------------------------------------------------------------------------
# good inputs
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "suffix", "kwargs", "tol"),
    [
        ("PNG", ".png", {}, 0),
        ("BMP", ".bmp", {}, 0),
        ("TIFF", ".tif", {}, 0),
        ("WEBP", ".webp", {"lossless": True}, 0),
        ("JPEG", ".jpg", {"quality": 95}, 12),
        ("JPEG", ".jpeg", {"quality": 95, "progressive": True}, 12),
    ],
)
def test_common_formats_load_as_rgb_uint8(
    tmp_path: Path, fmt: str, suffix: str, kwargs: dict, tol: int
) -> None:
    want = _gradient()
    path = tmp_path / f"photo{suffix}"
    Image.fromarray(want).save(path, format=fmt, **kwargs)
    got = load_photo(path)
    assert got.shape == want.shape and got.dtype == np.uint8
    assert np.abs(got.astype(int) - want).max() <= tol


def test_rgba_png_is_composited_on_white(tmp_path: Path) -> None:
    rgba = np.zeros((10, 10, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[:5, :, 3] = 255  # opaque red-ish top
    rgba[5:, :, 3] = 0  # fully transparent bottom (its RGB must not show)
    path = tmp_path / "cutout.png"
    Image.fromarray(rgba, "RGBA").save(path)
    got = load_photo(path)
    assert (got[:5] == [200, 0, 0]).all()
    assert (got[5:] == 255).all()
    assert load_photo_rgba(path)[..., 3].tolist() == rgba[..., 3].tolist()


def test_16bit_gray_png_scales_to_8bit(tmp_path: Path) -> None:
    values = np.array([[0, 257 * 64, 65535]], dtype=np.uint16)
    path = tmp_path / "gray16.png"
    rows = b"".join(b"\x00" + row.astype(">u2").tobytes() for row in values)
    path.write_bytes(_raw_png(3, 1, 16, 0, rows))
    got = load_photo(path)
    assert got.shape == (1, 3, 3)
    assert got[0, :, 0].tolist() == [0, 64, 255]
    assert (got[..., 0] == got[..., 1]).all() and (got[..., 1] == got[..., 2]).all()


def test_16bit_rgb_png(tmp_path: Path) -> None:
    px = np.array([[[65535, 0, 32896], [0, 65535, 0]]], dtype=np.uint16)
    rows = b"".join(b"\x00" + row.astype(">u2").tobytes() for row in px)
    path = tmp_path / "rgb16.png"
    path.write_bytes(_raw_png(2, 1, 16, 2, rows))
    got = load_photo(path)
    assert got.tolist() == [[[255, 0, 128], [0, 255, 0]]]


def test_palette_png_with_transparency(tmp_path: Path) -> None:
    idx = np.array([[0, 1], [1, 0]], np.uint8)
    im = Image.fromarray(idx, "P")
    im.putpalette([10, 20, 30, 200, 100, 50] + [0] * 762)
    im.info["transparency"] = 0
    path = tmp_path / "palette.png"
    im.save(path, transparency=0)
    got = load_photo(path)
    assert got[0, 0].tolist() == [255, 255, 255]  # transparent index -> white
    assert got[0, 1].tolist() == [200, 100, 50]


def test_cmyk_jpeg(tmp_path: Path) -> None:
    path = tmp_path / "cmyk.jpg"
    Image.new("CMYK", (16, 16), (0, 255, 255, 0)).save(path, quality=95)  # pure red in CMYK
    got = load_photo(path)
    assert got.shape == (16, 16, 3)
    r, g, b = got.reshape(-1, 3).mean(0)
    assert r > 220 and g < 40 and b < 40


def test_grayscale_jpeg_becomes_rgb(tmp_path: Path) -> None:
    path = tmp_path / "gray.jpg"
    Image.fromarray(_gradient()[..., 0], "L").save(path, quality=95)
    got = load_photo(path)
    assert got.shape == (48, 64, 3)
    assert (got[..., 0] == got[..., 2]).all()


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    arr = np.zeros((20, 40, 3), np.uint8)
    arr[:, :20] = [255, 0, 0]  # left half red, right half blue (as stored)
    arr[:, 20:] = [0, 0, 255]
    im = Image.fromarray(arr)
    exif = im.getexif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    path = tmp_path / "phone.jpg"
    im.save(path, quality=95, exif=exif.tobytes())
    got = load_photo(path)
    assert got.shape == (40, 20, 3)  # portrait after rotation
    assert got[5, 10, 0] > 200 and got[5, 10, 2] < 60  # stored left (red) is now on top
    assert got[35, 10, 2] > 200 and got[35, 10, 0] < 60


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_animation_gives_first_frame(tmp_path: Path, fmt: str) -> None:
    frames = [Image.new("RGB", (8, 8), c) for c in [(250, 0, 0), (0, 250, 0), (0, 0, 250)]]
    path = tmp_path / f"anim.{fmt.lower()}"
    extra = {"lossless": True} if fmt == "WEBP" else {}
    frames[0].save(path, format=fmt, save_all=True, append_images=frames[1:], duration=100, **extra)
    got = load_photo(path)
    assert got.shape == (8, 8, 3)
    assert got[..., 0].min() > 200 and got[..., 1].max() < 40


def test_oversized_jpeg_is_downscaled_while_decoding(tmp_path: Path) -> None:
    path = tmp_path / "big.jpg"
    Image.new("RGB", (2000, 1500), (40, 120, 200)).save(path, quality=80)
    got = load_photo(path, max_pixels=400_000)
    assert got.shape[0] * got.shape[1] <= 400_000
    assert got.shape[1] / got.shape[0] == pytest.approx(2000 / 1500, rel=0.01)
    assert np.abs(got.reshape(-1, 3).mean(0) - [40, 120, 200]).max() < 4


def test_oversized_png_is_reduced(tmp_path: Path) -> None:
    path = tmp_path / "big.png"
    Image.new("RGB", (1200, 900), (10, 20, 30)).save(path)
    got = load_photo(path, max_pixels=100_000)
    assert got.shape[0] * got.shape[1] <= 100_000 and got.shape[0] >= 200


@pytest.mark.parametrize(
    ("arr", "expect"),
    [
        (np.full((4, 5), 128, np.uint8), [128, 128, 128]),
        (np.full((4, 5, 3), 0.5, np.float32), [128, 128, 128]),
        (np.full((4, 5, 3), 65535, np.uint16), [255, 255, 255]),
        (np.dstack([np.zeros((4, 5, 3), np.uint8), np.zeros((4, 5), np.uint8)]), [255, 255, 255]),
    ],
)
def test_arrays(arr: np.ndarray, expect: list[int]) -> None:
    got = load_photo(arr)
    assert got.shape == (4, 5, 3) and got.dtype == np.uint8
    assert got[0, 0].tolist() == expect


# ---------------------------------------------------------------------------------------
# bad inputs: one line naming the file
# ---------------------------------------------------------------------------------------


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    with pytest.raises(InputError) as err:
        load_photo(path)
    _assert_one_line_naming(err, path)


def test_random_bytes_named_jpg(tmp_path: Path) -> None:
    path = tmp_path / "noise.jpg"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    with pytest.raises(InputError, match="not an image") as err:
        load_photo(path)
    _assert_one_line_naming(err, path)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_truncated_file(tmp_path: Path, fmt: str) -> None:
    rng = np.random.default_rng(1)
    noise = rng.integers(0, 256, (256, 256, 3), dtype=np.uint8)  # incompressible: data spans the file
    path = tmp_path / f"cut.{fmt.lower()}"
    Image.fromarray(noise).save(path, format=fmt)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"damaged|not an image") as err:
        load_photo(path)
    _assert_one_line_naming(err, path)


def test_decompression_bomb_header_is_refused_quickly(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(_raw_png(30000, 30000, 8, 2, b"\x00" * 16))
    t0 = time.perf_counter()
    with pytest.raises(InputError, match="megapixel limit") as err:
        load_photo(path)
    assert time.perf_counter() - t0 < 1.0  # refused from the header, nothing allocated
    _assert_one_line_naming(err, path)


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="folder") as err:
        load_photo(tmp_path)
    _assert_one_line_naming(err, tmp_path)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.png"
    with pytest.raises(InputError, match="not found") as err:
        load_photo(path)
    _assert_one_line_naming(err, path)


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests run as root, where chmod 000 does not stop reading: make the open itself fail.
    path = tmp_path / "locked.png"
    Image.new("RGB", (4, 4)).save(path)

    def deny(*_args: object, **_kw: object) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(images.Image, "open", deny)
    with pytest.raises(InputError, match="permission denied") as err:
        load_photo(path)
    _assert_one_line_naming(err, path)


def test_bad_array_shape() -> None:
    with pytest.raises(InputError, match="not an image"):
        load_photo(np.zeros((4, 5, 2), np.uint8))


# ---------------------------------------------------------------------------------------
# save_png
# ---------------------------------------------------------------------------------------


def test_save_png_round_trip_leaves_no_temp(tmp_path: Path) -> None:
    want = _gradient()
    path = tmp_path / "out.png"
    save_png(want, path)
    assert np.array_equal(load_photo(path), want)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]
    assert path.stat().st_mode & 0o044 == 0o044  # readable by others like a normal file


def test_save_png_failure_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "out.png"
    path.write_bytes(b"old")

    def broken_save(*_a: object, **_k: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(OutputError, match="No space left"):
        save_png(_gradient(), path)
    assert path.read_bytes() == b"old"  # the old file is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]


def test_save_png_rejects_float(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="uint8"):
        save_png(np.zeros((4, 4, 3), np.float32), tmp_path / "x.png")
