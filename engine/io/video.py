"""Writing frame sequences as MP4 (H.264 through imageio-ffmpeg's bundled ffmpeg) or GIF (Pillow).

MP4: yuv420p by default (plays everywhere; CRF 18, visually lossless), or the reference's
lossless yuv444p (libx264 high444, CRF 0, preset veryfast; spec §6.6). GIF: each frame
quantised to its own 256-colour palette, looping; GIF timing is in 1/100 s, so the frame
time is 1/fps rounded to a multiple of 10 ms.
Every writer is atomic: frames go to a temporary file in the same folder that is renamed
over ``path`` only when the whole video is written; an error or a cancel removes it.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Literal

import numpy as np

from engine.api import CancelToken, InputError, OutputError, ProgressCallback, ProgressEvent, no_progress
from engine.io.atomic import atomic_write

PixFmt = Literal["yuv420p", "yuv444p"]
VIDEO_SUFFIXES = (".mp4", ".gif")
MP4_CRF_DEFAULT = 18


def write_video(
    frames: Iterable[np.ndarray],
    path: str | os.PathLike[str],
    fps: float = 30.0,
    pix_fmt: PixFmt = "yuv420p",
    on_progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    total: int = 0,
) -> Path:
    """Encode uint8 RGB frames (each (H,W,3), all the same size) to ``path`` (.mp4 or .gif).

    pix_fmt: "yuv420p" (default) or "yuv444p" (lossless, as the reference); MP4 only.
    on_progress gets ProgressEvent("video", i, total) after each frame; ``total`` is only
    used for those events (0 = unknown). cancel: checked before every frame; raises
    engine.api.Cancelled and leaves no file. Returns the written path.
    """
    out = Path(path)
    suffix = out.suffix.lower()
    if suffix not in VIDEO_SUFFIXES:
        raise InputError(f"{out}: video must end in .mp4 or .gif")
    if pix_fmt not in ("yuv420p", "yuv444p"):
        raise InputError(f"{out}: pixel format must be yuv420p or yuv444p, got {pix_fmt!r}")
    if not (np.isfinite(fps) and 0 < fps <= 240):
        raise InputError(f"{out}: fps must be in (0, 240], got {fps}")
    if not out.parent.is_dir():
        raise OutputError(f"{out}: folder {out.parent} does not exist")
    token = cancel or CancelToken()
    writer = _write_mp4 if suffix == ".mp4" else _write_gif
    with atomic_write(out) as tmp:
        count = writer(_checked(frames, out, token), tmp, out, fps, pix_fmt, on_progress, total)
        if count == 0:
            raise InputError(f"{out}: no frames to write")
    return out


def _checked(frames: Iterable[np.ndarray], out: Path, cancel: CancelToken) -> Iterator[np.ndarray]:
    """Yield frames as C-contiguous uint8 (H,W,3) after checking them; cancel between frames."""
    size: tuple[int, ...] | None = None
    for i, frame in enumerate(frames):
        cancel.raise_if_cancelled()
        arr = np.asarray(frame)
        if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] != 3:
            raise InputError(f"{out}: frame {i} must be (H,W,3) uint8, got {arr.shape} {arr.dtype}")
        if size is None:
            size = arr.shape
        elif arr.shape != size:
            raise InputError(
                f"{out}: frame {i} is {arr.shape[1]}x{arr.shape[0]}, frame 0 is {size[1]}x{size[0]}"
            )
        yield np.ascontiguousarray(arr)
    cancel.raise_if_cancelled()


def _write_mp4(
    frames: Iterator[np.ndarray],
    tmp: Path,
    out: Path,
    fps: float,
    pix_fmt: PixFmt,
    on_progress: ProgressCallback,
    total: int,
) -> int:
    """Pipe raw RGB frames into the bundled ffmpeg (libx264); its exit status is checked."""
    import imageio_ffmpeg

    first = next(frames, None)
    if first is None:
        return 0
    h, w = first.shape[:2]
    if pix_fmt == "yuv420p" and (w % 2 or h % 2):
        raise InputError(
            f"{out}: H.264 yuv420p needs an even frame size, got {w}x{h}; "
            "use an even size or the lossless yuv444p format"
        )
    if pix_fmt == "yuv444p":
        quality = ["-preset", "veryfast", "-profile:v", "high444", "-crf", "0"]
    else:
        quality = ["-preset", "veryfast", "-profile:v", "high", "-crf", str(MP4_CRF_DEFAULT)]
    cmd = [
        imageio_ffmpeg.get_ffmpeg_exe(),
        "-y",
        "-v",
        "error",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
        "-s",
        f"{w}x{h}",
        "-r",
        f"{fps:g}",
        "-i",
        "-",
        "-an",
        "-c:v",
        "libx264",
        "-pix_fmt",
        pix_fmt,
        *quality,
        "-movflags",
        "+faststart",
        "-f",
        "mp4",
        str(tmp),
    ]
    count = 0
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=log)
        assert proc.stdin is not None
        try:
            for frame in _chain(first, frames):
                try:
                    proc.stdin.write(frame.tobytes())
                except BrokenPipeError:
                    break  # ffmpeg died; its message is read below
                count += 1
                on_progress(ProgressEvent("video", count, total, f"encoding frame {count}"))
            with contextlib.suppress(BrokenPipeError):
                proc.stdin.close()
            code = proc.wait()
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        if code != 0:
            log.seek(0)
            lines = [ln for ln in log.read().decode("utf-8", "replace").splitlines() if ln.strip()]
            reason = lines[-1].strip() if lines else f"exit status {code}"
            raise OutputError(f"{out}: ffmpeg could not encode the video ({reason})")
    return count


def _write_gif(
    frames: Iterator[np.ndarray],
    tmp: Path,
    out: Path,
    fps: float,
    _pix_fmt: PixFmt,
    on_progress: ProgressCallback,
    total: int,
) -> int:
    from PIL import Image

    images: list[Image.Image] = []
    for frame in frames:
        images.append(Image.fromarray(frame, "RGB").quantize(colors=256))
        on_progress(ProgressEvent("video", len(images), total, f"encoding frame {len(images)}"))
    if not images:
        return 0
    duration_ms = max(10, round(100.0 / fps) * 10)
    images[0].save(
        tmp, format="GIF", save_all=True, append_images=images[1:], duration=duration_ms, loop=0, disposal=1
    )
    return len(images)


def _chain(first: np.ndarray, rest: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
    yield first
    yield from rest
