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


class Mp4Encoder:
    """Push-style H.264 encoding: frames one at a time into the bundled ffmpeg (libx264).

    ``append_data(frame)`` sends one (height,width,3) uint8 frame; ``close()`` finishes the file
    and raises OutputError (one line, naming ``out``) when ffmpeg failed -- a full disk, a write
    error -- so a truncated video is never taken for a finished one; ``kill()`` stops ffmpeg at
    once. ``tmp`` is the file ffmpeg writes; ``out`` is the name messages use. Odd sizes need
    pix_fmt "yuv444p" (InputError otherwise).
    """

    def __init__(
        self, tmp: Path, out: Path, width: int, height: int, fps: float, pix_fmt: PixFmt = "yuv420p"
    ) -> None:
        import imageio_ffmpeg

        if pix_fmt == "yuv420p" and (width % 2 or height % 2):
            raise InputError(
                f"{out}: H.264 yuv420p needs an even frame size, got {width}x{height}; "
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
            f"{width}x{height}",
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
        self.out = out
        self.frames = 0
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close() or kill())
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._log)
        self._broken = False

    def append_data(self, frame: np.ndarray) -> bool:
        """Send one frame; False once ffmpeg has stopped reading (close() then says why)."""
        assert self._proc.stdin is not None
        if self._broken:
            return False
        try:
            self._proc.stdin.write(np.ascontiguousarray(frame, dtype=np.uint8).tobytes())
        except BrokenPipeError:
            self._broken = True  # ffmpeg died; its message is read in close()
            return False
        self.frames += 1
        return True

    def close(self) -> None:
        """Finish the video; OutputError when ffmpeg did not exit cleanly."""
        with contextlib.suppress(BrokenPipeError):
            assert self._proc.stdin is not None
            self._proc.stdin.close()
        code = self._proc.wait()
        try:
            if code != 0:
                self._log.seek(0)
                text = self._log.read().decode("utf-8", "replace")
                lines = [ln for ln in text.splitlines() if ln.strip()]
                reason = lines[-1].strip() if lines else f"exit status {code}"
                raise OutputError(f"{self.out}: ffmpeg could not encode the video ({reason})")
        finally:
            self._log.close()

    def kill(self) -> None:
        """Stop ffmpeg now (an error or a cancel); the caller removes its file."""
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        with contextlib.suppress(BrokenPipeError, OSError):
            assert self._proc.stdin is not None
            self._proc.stdin.close()
        self._log.close()


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
    first = next(frames, None)
    if first is None:
        return 0
    h, w = first.shape[:2]
    encoder = Mp4Encoder(tmp, out, w, h, fps, pix_fmt)
    try:
        for frame in _chain(first, frames):
            if not encoder.append_data(frame):
                break
            on_progress(ProgressEvent("video", encoder.frames, total, f"encoding frame {encoder.frames}"))
        encoder.close()
    except BaseException:
        encoder.kill()
        raise
    return encoder.frames


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
