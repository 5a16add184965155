"""Reading any photo a person might drop, and writing PNGs atomically.

``load_photo`` turns a path or an array into an (H,W,3) uint8 RGB array: EXIF orientation
applied, transparency composited on white (as FaceLift does), 16-bit / palette / CMYK /
grayscale converted, animations reduced to their first frame, oversized photos downscaled
while decoding. Anything unusable raises :class:`engine.api.InputError` with one line that
names the file.
"""

from __future__ import annotations

import math
import os
import re
import struct
import tempfile
import warnings
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from engine.errors import InputError, OutputError

DEFAULT_MAX_PIXELS = 25_000_000
"""Photos above this many pixels are downscaled (by an integer factor) while loading."""

BOMB_LIMIT_PIXELS = 150_000_000
"""Photos whose header declares more pixels than this are refused before decoding."""

MIN_PHOTO_SIDE = 32
"""A portrait photo needs at least this many pixels on each side: face detection finds nothing
smaller, and a 512 px input blown up from fewer pixels is not a face. Callers that load a photo
to reconstruct pass it as ``min_side``; other images (views, arrays in tests) may be smaller."""

_DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    KeyError,
    TypeError,
    struct.error,
    zlib.error,
    Image.DecompressionBombError,
)

PhotoSource = str | os.PathLike[str] | np.ndarray


def _name(source: PhotoSource) -> str:
    if isinstance(source, np.ndarray):
        shape = source.shape
        return f"<image {shape[1]}x{shape[0]}>" if source.ndim >= 2 else "<image>"
    return str(source)


def _reduce_factor(width: int, height: int, max_pixels: int) -> int:
    """The smallest integer factor that brings width*height to at most max_pixels."""
    if width * height <= max_pixels:
        return 1
    return max(1, math.ceil(math.sqrt(width * height / max_pixels)))


def _to_rgba_or_rgb(im: Image.Image) -> Image.Image:
    """Convert any PIL mode to "RGB" or "RGBA" (alpha kept when the image has one)."""
    mode = im.mode
    if mode in ("RGB", "RGBA"):
        return im
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        arr = np.asarray(im)
        if mode == "F":
            arr = arr.astype(np.float64)
            top = 1.0 if float(np.nanmax(arr, initial=0.0)) <= 1.0 else 65535.0
            gray = np.clip(np.nan_to_num(arr) / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        else:
            top = 255 if int(arr.max(initial=0)) <= 255 else 65535
            gray = np.clip(np.rint(arr.astype(np.float64) * (255.0 / top)), 0, 255).astype(np.uint8)
        return Image.fromarray(np.repeat(gray[:, :, None], 3, axis=2), "RGB")
    if mode == "P":
        has_alpha = "transparency" in im.info or (im.palette is not None and im.palette.mode == "RGBA")
        return im.convert("RGBA" if has_alpha else "RGB")
    if mode in ("LA", "La", "PA", "RGBa", "RGBX"):
        return im.convert("RGBA") if mode != "RGBX" else im.convert("RGB")
    if mode == "L" and "transparency" in im.info:
        return im.convert("RGBA")
    if mode == "1":
        return im.convert("L").convert("RGB")
    return im.convert("RGB")  # L, CMYK, YCbCr, LAB, HSV


def _check_size(name: str, width: int, height: int, min_side: int) -> None:
    """Refuse, from the header alone, images with no pixels, too few, or too many."""
    if width <= 0 or height <= 0:
        raise InputError(f"{name}: image has no pixels ({width}x{height})")
    if min(width, height) < min_side:
        raise InputError(
            f"{name}: image is {width}x{height} pixels, too small for a portrait "
            f"(at least {min_side}x{min_side} needed)"
        )
    if width * height > BOMB_LIMIT_PIXELS:
        raise InputError(
            f"{name}: image is too large: {width}x{height} pixels, above the "
            f"{BOMB_LIMIT_PIXELS // 1_000_000} megapixel limit"
        )


def _bomb_message(name: str, exc: Image.DecompressionBombError) -> str:
    """PIL refuses huge headers inside Image.open (the size is only in its message)."""
    found = re.search(r"\((\d+) pixels\)", str(exc))
    declared = f" ({int(found.group(1)) / 1e6:,.0f} megapixels declared in its header)" if found else ""
    return f"{name}: image is too large{declared}, above the {BOMB_LIMIT_PIXELS // 1_000_000} megapixel limit"


def _decode(src: Image.Image, name: str, max_pixels: int, min_side: int) -> Image.Image:
    """Guard the header size, draft-decode, take frame 0, apply EXIF, downscale."""
    width, height = src.size
    _check_size(name, width, height, min_side)
    if getattr(src, "n_frames", 1) > 1:
        src.seek(0)
    factor = _reduce_factor(width, height, max_pixels)
    if factor > 1 and src.format == "JPEG":
        # DCT-domain scaling: decodes at 1/2, 1/4 or 1/8 size directly.
        src.draft("RGB", (math.ceil(width / factor), math.ceil(height / factor)))
    src.load()
    # In place: without an orientation tag the default returns a copy (a 12 MP photo: ~0.02 s).
    # The loaded pixels do not need the file, which the caller closes (its fp only).
    ImageOps.exif_transpose(src, in_place=True)
    im = _to_rgba_or_rgb(src)
    factor = _reduce_factor(im.width, im.height, max_pixels)
    if factor > 1:
        im = im.reduce(factor)
    return im


def _open_pil(path: Path, max_pixels: int, min_side: int) -> Image.Image:
    """Open, guard, draft-decode, take frame 0, apply EXIF, downscale; returns RGB or RGBA."""
    name = str(path)
    if path.is_dir():
        raise InputError(f"{name}: is a folder, not an image file")
    if not path.exists():
        raise InputError(f"{name}: file not found")
    try:
        if path.stat().st_size == 0:
            raise InputError(f"{name}: empty file (0 bytes), not an image")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as src:
                out = _decode(src, name, max_pixels, min_side)
    except InputError:
        raise
    except PermissionError:
        raise InputError(f"{name}: cannot be read (permission denied)") from None
    except Image.UnidentifiedImageError:
        raise InputError(f"{name}: not an image file (or a format this app cannot read)") from None
    except Image.DecompressionBombError as exc:
        # PIL's own guard fires inside Image.open for headers beyond 2x its MAX_IMAGE_PIXELS.
        raise InputError(_bomb_message(name, exc)) from None
    except MemoryError:
        raise InputError(f"{name}: image too large to decode in memory") from None
    except _DECODE_ERRORS as exc:
        detail = " ".join(str(exc).split()) or type(exc).__name__
        raise InputError(f"{name}: unreadable or damaged image ({detail})") from None
    return out


def _array_to_pil(arr: np.ndarray) -> Image.Image:
    """An (H,W), (H,W,1|3|4) uint8/uint16/float [0,1] array as a PIL RGB or RGBA image."""
    name = _name(arr)
    a = np.asarray(arr)
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim != 3 or a.shape[2] not in (1, 3, 4) or a.shape[0] == 0 or a.shape[1] == 0:
        raise InputError(f"{name}: array of shape {arr.shape} is not an image (H,W[,1|3|4])")
    if a.dtype == np.uint8:
        u8 = a
    elif a.dtype == np.uint16:
        u8 = np.rint(a.astype(np.float64) * (255.0 / 65535.0)).astype(np.uint8)
    elif a.dtype.kind == "f":
        if not np.isfinite(a).all():
            raise InputError(f"{name}: image array has non-finite values")
        u8 = np.clip(np.rint(a * 255.0), 0, 255).astype(np.uint8)
    elif a.dtype == np.bool_:
        u8 = a.astype(np.uint8) * 255
    else:
        raise InputError(f"{name}: unsupported image dtype {a.dtype}")
    if u8.shape[2] == 1:
        u8 = np.repeat(u8, 3, axis=2)
    return Image.fromarray(np.ascontiguousarray(u8), "RGBA" if u8.shape[2] == 4 else "RGB")


def _load_pil(source: PhotoSource, max_pixels: int, min_side: int = 1) -> Image.Image:
    if isinstance(source, np.ndarray):
        im = _array_to_pil(source)
        _check_size(_name(source), im.width, im.height, min_side)
        factor = _reduce_factor(im.width, im.height, max_pixels)
        return im.reduce(factor) if factor > 1 else im
    if not isinstance(source, str | os.PathLike):
        raise InputError(f"{source!r}: not a path or an image array")
    return _open_pil(Path(source), max_pixels, min_side)


def composite_on_white(im: Image.Image) -> Image.Image:
    """RGBA -> RGB over an opaque white canvas (PIL alpha_composite, as FaceLift does)."""
    if im.mode != "RGBA":
        return im.convert("RGB")
    white = Image.new("RGBA", im.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, im).convert("RGB")


def load_photo(source: PhotoSource, max_pixels: int = DEFAULT_MAX_PIXELS, min_side: int = 1) -> np.ndarray:
    """A photo as an (H,W,3) uint8 RGB array; transparency composited on white.

    source: a path, or an (H,W), (H,W,1|3|4) array (uint8, uint16 or float in [0,1]).
    max_pixels: larger photos are downscaled by an integer factor while decoding.
    min_side: images with a side shorter than this are refused (MIN_PHOTO_SIDE for a portrait).
    Raises InputError (one line naming the file) for anything that is not a usable image.
    """
    im = _load_pil(source, max_pixels, min_side)
    if im.mode != "RGB":  # an RGB photo is its own composite: no 12 MP copy
        im = composite_on_white(im)
    return np.asarray(im, dtype=np.uint8).copy()


def load_photo_image(
    source: PhotoSource, max_pixels: int = DEFAULT_MAX_PIXELS, min_side: int = 1
) -> Image.Image:
    """A photo as a PIL image of mode "RGB", or "RGBA" when the file or array has an alpha
    channel (which may still be all opaque); same checks and errors as ``load_photo``."""
    return _load_pil(source, max_pixels, min_side)


def load_photo_rgba(
    source: PhotoSource, max_pixels: int = DEFAULT_MAX_PIXELS, min_side: int = 1
) -> np.ndarray:
    """A photo as an (H,W,4) uint8 RGBA array (alpha 255 where the file has no alpha)."""
    im = _load_pil(source, max_pixels, min_side)
    return np.asarray(im.convert("RGBA"), dtype=np.uint8).copy()


def resize_square(image: np.ndarray, size: int) -> np.ndarray:
    """(H,W,3) uint8 -> (size,size,3) uint8 with PIL's Lanczos filter (area-like when shrinking);
    the same array when it already has that size. The one resize every square image takes (the
    diffusion input, GS-LRM's views, turntable frames from the viewport)."""
    if image.shape[:2] == (size, size):
        return image
    return np.asarray(Image.fromarray(image).resize((size, size), Image.Resampling.LANCZOS), dtype=np.uint8)


def save_png(array: np.ndarray, path: str | os.PathLike[str]) -> None:
    """Write an (H,W), (H,W,3) or (H,W,4) uint8 array as PNG, atomically.

    The image goes to a temporary file in the same folder that is renamed over ``path``
    on success and removed on failure, so a reader never sees a partial file.
    """
    path = Path(path)
    arr = np.asarray(array)
    if arr.dtype != np.uint8:
        raise OutputError(f"{path}: save_png needs uint8 pixels, got {arr.dtype}")
    if not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] in (1, 3, 4))):
        raise OutputError(f"{path}: save_png needs (H,W[,1|3|4]) pixels, got shape {arr.shape}")
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    im = Image.fromarray(np.ascontiguousarray(arr))
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            im.save(fh, format="PNG")
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a saved image should be readable like any file
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
