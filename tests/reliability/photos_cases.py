"""The photo files of the reliability matrix, made on the fly from skimage's sample images.

Each ``make_<case>(folder) -> Path`` writes one file (or folder) into ``folder`` and returns its
path. The real face is ``skimage.data.astronaut()`` (512x512 RGB, one face at about x 170..300,
y 30..200); the no-face photo is ``skimage.data.coffee()``. PNGs that PIL cannot write
(16-bit RGB, a header that declares 30000x30000) are written byte by byte. At the end, the
checks the engine, CLI and GUI photo tests (test_photos_*.py) share.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from PIL import Image

if TYPE_CHECKING:
    from engine.api import ReconstructionResult

EXIF_ORIENTATION = 0x0112


@lru_cache(maxsize=1)
def astronaut() -> np.ndarray:
    """(512,512,3) uint8: the face every good case is made of."""
    from skimage import data

    return np.ascontiguousarray(data.astronaut())


@lru_cache(maxsize=1)
def coffee() -> np.ndarray:
    """(400,600,3) uint8: a cup of coffee, no face."""
    from skimage import data

    return np.ascontiguousarray(data.coffee())


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def raw_png(width: int, height: int, bit_depth: int, color_type: int, rows: bytes) -> bytes:
    """A PNG written by hand: IHDR as given, ``rows`` (filter bytes included) deflated in one IDAT."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(rows))
        + png_chunk(b"IEND", b"")
    )


def png16_bytes(rgb16: np.ndarray) -> bytes:
    """(H,W,3) uint16 -> a 16-bit RGB PNG (big-endian samples, filter 0 on every row)."""
    h, w, _ = rgb16.shape
    rows = rgb16.astype(">u2").reshape(h, w * 6 // 2).view(np.uint8).reshape(h, w * 6)
    body = np.concatenate([np.zeros((h, 1), np.uint8), rows], axis=1).tobytes()
    return raw_png(w, h, 16, 2, body)


def save_image(rgb: np.ndarray, path: Path) -> Path:
    """Writes ``rgb`` (H,W,3) uint8 to ``path`` in the format its suffix names; returns ``path``."""
    Image.fromarray(rgb).save(path)
    return path


def save_astronaut_jpeg(path: Path, mode: str = "RGB") -> Path:
    """Writes the astronaut in PIL mode ``mode`` ("RGB", "L", "CMYK") to ``path`` as a JPEG of
    quality 95; returns ``path``."""
    Image.fromarray(astronaut()).convert(mode).save(path, format="JPEG", quality=95)
    return path


def jpeg_bytes(rgb: np.ndarray, **kwargs: object) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=95, **kwargs)
    return buf.getvalue()


# ---- unusable files -----------------------------------------------------------------------


def make_empty(folder: Path) -> Path:
    path = folder / "empty.jpg"
    path.write_bytes(b"")
    return path


def make_random_bytes(folder: Path) -> Path:
    path = folder / "noise.jpg"
    path.write_bytes(np.random.default_rng(7).integers(0, 256, 20_000, dtype=np.uint8).tobytes())
    return path


def make_truncated_jpeg(folder: Path) -> Path:
    """The astronaut as a JPEG cut at 40 % of its bytes (the header is intact)."""
    data = jpeg_bytes(astronaut())
    path = folder / "cut.jpg"
    path.write_bytes(data[: len(data) * 2 // 5])
    return path


def make_truncated_png(folder: Path) -> Path:
    buf = io.BytesIO()
    Image.fromarray(astronaut()).save(buf, format="PNG")
    data = buf.getvalue()
    path = folder / "cut.png"
    path.write_bytes(data[: len(data) * 2 // 5])
    return path


def make_one_pixel(folder: Path) -> Path:
    path = folder / "dot.png"
    Image.new("RGB", (1, 1), (200, 150, 120)).save(path)
    return path


def make_bomb(folder: Path) -> Path:
    """A 30000x30000 RGB PNG header (2.7 GB of pixels) over a few bytes of data: never decoded."""
    path = folder / "bomb.png"
    path.write_bytes(raw_png(30000, 30000, 8, 2, b"\x00" * 64))
    return path


def make_folder(folder: Path) -> Path:
    """A folder named like a photo (and holding no photo)."""
    path = folder / "portrait.jpg"
    path.mkdir()
    return path


def make_no_face(folder: Path) -> Path:
    return save_image(coffee(), folder / "coffee.png")


def make_unreadable(folder: Path) -> Path:
    """A good photo with mode 000 (only stops a process without root's file override)."""
    path = save_image(astronaut(), folder / "locked.png")
    path.chmod(0)
    return path


# ---- usable but odd -----------------------------------------------------------------------


def make_astronaut_png(folder: Path) -> Path:
    return save_image(astronaut(), folder / "astronaut.png")


def make_astronaut_jpeg(folder: Path) -> Path:
    return save_astronaut_jpeg(folder / "astronaut.jpg")


def make_png16(folder: Path) -> Path:
    """The astronaut at 16 bits per sample (v * 257: full range, same brightness)."""
    path = folder / "deep.png"
    path.write_bytes(png16_bytes(astronaut().astype(np.uint16) * 257))
    return path


def make_cmyk_jpeg(folder: Path) -> Path:
    """A CMYK JPEG as print workflows write it (inverted samples + an Adobe APP14 marker)."""
    return save_astronaut_jpeg(folder / "print.jpg", "CMYK")


def head_mask() -> np.ndarray:
    """(512,512) bool: an ellipse around the astronaut's head and shoulders (True = keep)."""
    y, x = np.mgrid[0:512, 0:512]
    return ((x - 240) / 150.0) ** 2 + ((y - 180) / 190.0) ** 2 <= 1.0


def make_palette_alpha(folder: Path) -> Path:
    """A palette PNG: the head in 255 colours, everything outside ``head_mask`` on a transparent
    palette entry whose RGB is black (so a loader that ignores transparency shows black)."""
    im = Image.fromarray(astronaut()).quantize(colors=255, method=Image.Quantize.MEDIANCUT)
    idx = np.asarray(im).copy()
    idx[~head_mask()] = 255
    palette = [*(im.getpalette() or [])[: 255 * 3], 0, 0, 0]
    out = Image.fromarray(idx, "P")
    out.putpalette(palette)
    path = folder / "cutout.png"
    out.save(path, transparency=255)
    return path


def _frames() -> list[Image.Image]:
    """Frame 0: the astronaut; frame 1: the coffee cup (no face) at the same size."""
    cup = Image.fromarray(coffee()).resize((512, 512))
    return [Image.fromarray(astronaut()), cup]


def make_animated_gif(folder: Path) -> Path:
    first, second = _frames()
    path = folder / "wave.gif"
    first.save(path, save_all=True, append_images=[second], duration=200, loop=0)
    return path


def make_animated_webp(folder: Path) -> Path:
    first, second = _frames()
    path = folder / "wave.webp"
    first.save(path, save_all=True, append_images=[second], duration=200, loop=0, lossless=True)
    return path


def make_exif_rotated(folder: Path, orientation: int) -> Path:
    """The astronaut stored sideways with the EXIF orientation that turns it upright again
    (6: the viewer rotates 90° clockwise; 8: 90° counter-clockwise)."""
    upright = Image.fromarray(astronaut())
    stored = upright.rotate(90, expand=True) if orientation == 6 else upright.rotate(-90, expand=True)
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = orientation
    path = folder / f"phone_{orientation}.jpg"
    stored.save(path, format="JPEG", quality=95, exif=exif.tobytes())
    return path


def make_grayscale(folder: Path) -> Path:
    return save_astronaut_jpeg(folder / "gray.jpg", "L")


def three_faces() -> np.ndarray:
    """(330,900,3) uint8: three astronaut heads side by side, the middle one a little larger."""
    head = Image.fromarray(astronaut()[0:330, 90:390])  # 300x330 around the face
    canvas = Image.new("RGB", (900, 330), (235, 235, 235))
    small = head.resize((270, 297))
    canvas.paste(small, (15, 20))
    canvas.paste(head, (300, 0))
    canvas.paste(small, (615, 20))
    return np.asarray(canvas)


def make_three_faces(folder: Path) -> Path:
    return save_image(three_faces(), folder / "group.png")


CUT_TOP = 90
"""Rows cut off the top of the astronaut for the cut-face case (through the forehead)."""


def make_cut_face(folder: Path) -> Path:
    """The astronaut with the top of the head outside the frame."""
    return save_image(astronaut()[CUT_TOP:], folder / "tight.png")


def make_unicode_path(folder: Path) -> Path:
    """The astronaut at ``my photos/Zoë 写真.png`` (a space, a non-ASCII letter, CJK)."""
    sub = folder / "my photos"
    sub.mkdir(exist_ok=True)
    return save_image(astronaut(), sub / "Zoë 写真.png")


@dataclass(frozen=True)
class BadCase:
    """An unusable input: ``problem`` are the words its one-line message must contain."""

    name: str
    make: Callable[[Path], Path]
    problem: tuple[str, ...]


BAD_CASES: tuple[BadCase, ...] = (
    BadCase("empty", make_empty, ("empty file (0 bytes), not an image",)),
    BadCase("random-bytes", make_random_bytes, ("not an image file (or a format this app cannot read)",)),
    BadCase(
        "truncated-jpeg", make_truncated_jpeg, ("unreadable or damaged image (image file is truncated (",)
    ),
    BadCase("truncated-png", make_truncated_png, ("unreadable or damaged image (image file is truncated)",)),
    BadCase(
        "1x1", make_one_pixel, ("image is 1x1 pixels, too small for a portrait (at least 32x32 needed)",)
    ),
    BadCase(
        "bomb",
        make_bomb,
        ("image is too large (900 megapixels declared in its header), above the 150 megapixel limit",),
    ),
    BadCase("folder", make_folder, ("is a folder, not an image file",)),
    BadCase("no-face", make_no_face, ("no face found — try without auto-crop",)),
)
"""Unusable files, as the engine API and the GUI see them (a folder on the CLI is a folder of
photos: see the tests for what it says there)."""


def case_id(case: BadCase) -> str:
    """A case's name, as its pytest id."""
    return case.name


def make_case(name: str) -> BadCase:
    return next(c for c in BAD_CASES if c.name == name)


# --------------------------------------------------------------------------------------
# What the engine, CLI and GUI tests check alike
# --------------------------------------------------------------------------------------


def mean_diff(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two images of one shape (0..255 for uint8)."""
    return float(np.abs(a.astype(np.float64) - b.astype(np.float64)).mean())


def assert_face_found(result: ReconstructionResult, faces: int = 1) -> None:
    """The result framed a face (or the most confident of ``faces``) and made a real head."""
    notes = " | ".join(result.info["notes"])
    if faces == 1:
        assert "face found" in notes, notes
    else:
        assert f"{faces} faces found; framed the most confident one" in notes, notes
    assert len(result.gaussians) > 10_000


def deny_reading(monkeypatch: pytest.MonkeyPatch, locked: Path) -> None:
    """Opening ``locked`` fails as it does for a user without read permission (we run as root,
    where mode 000 does not stop reads); every other file opens normally."""
    from engine.io import images

    real_open = images.Image.open

    def open_or_deny(fp: Any, *args: Any, **kwargs: Any) -> Any:
        if Path(str(fp)) == locked:
            raise PermissionError(13, "Permission denied", str(fp))
        return real_open(fp, *args, **kwargs)

    monkeypatch.setattr(images.Image, "open", open_or_deny)
