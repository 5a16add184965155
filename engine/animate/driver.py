"""Reading a driver: a video (bundled ffmpeg through imageio-ffmpeg) or one photo, frame by
frame, and its face mesh per frame."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.animate.landmarks import detect
from engine.errors import InputError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
TRACK_MAX_SIDE = 960  # frames are reduced to this long side before the face mesh
PHOTO_FPS = 25.0


@dataclass(frozen=True)
class DriverInfo:
    """What a driver is: ``fps`` (frames per second; PHOTO_FPS for a photo), ``frames`` (count,
    0 when the container does not say), ``size`` (width, height), ``photo`` (one still image)."""

    path: Path
    fps: float
    frames: int
    size: tuple[int, int]
    photo: bool


def is_photo(path: str | os.PathLike[str]) -> bool:
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def open_driver(path: str | os.PathLike[str]) -> tuple[DriverInfo, Iterator[np.ndarray]]:
    """(its description, an iterator of (H,W,3) uint8 RGB frames). One InputError line naming
    the file when it is missing or cannot be read as a video or photo."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: driver not found")
    if is_photo(p):
        from engine.io.images import load_photo

        img = load_photo(p)
        return DriverInfo(p, PHOTO_FPS, 1, (img.shape[1], img.shape[0]), True), iter([img])
    return _open_video(p)


def _open_video(p: Path) -> tuple[DriverInfo, Iterator[np.ndarray]]:
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(p), pix_fmt="rgb24")
    try:
        meta = next(reader)
    except (OSError, RuntimeError, StopIteration) as exc:
        reader.close()
        why = " ".join(str(exc).split())[-160:] or "no video stream"
        raise InputError(f"{p}: cannot read the driver video ({why})") from None
    w, h = (int(v) for v in meta.get("size", (0, 0)))
    fps = float(meta.get("fps") or PHOTO_FPS)
    if w <= 0 or h <= 0 or not np.isfinite(fps) or fps <= 0:
        reader.close()
        raise InputError(f"{p}: cannot read the driver video (no picture in it)")
    duration = float(meta.get("duration") or 0.0)
    count = round(duration * fps) if duration > 0 else 0

    def frames() -> Iterator[np.ndarray]:
        try:
            for raw in reader:
                yield np.frombuffer(raw, np.uint8).reshape(h, w, 3)
        except RuntimeError as exc:
            raise InputError(
                f"{p}: the driver video stops with an error ({' '.join(str(exc).split())[-160:]})"
            ) from None
        finally:
            reader.close()

    return DriverInfo(p, fps, count, (w, h), False), frames()


def track(frame: np.ndarray) -> np.ndarray | None:
    """(478,3) landmarks of the face in ``frame`` (H,W,3) uint8, in its pixels, or None."""
    h, w = frame.shape[:2]
    scale = min(1.0, TRACK_MAX_SIDE / max(h, w))
    if scale < 1.0:
        from PIL import Image

        small = np.asarray(
            Image.fromarray(frame).resize((round(w * scale), round(h * scale)), Image.Resampling.BILINEAR)
        )
        lm = detect(small)
        return None if lm is None else lm / scale
    return detect(frame)
