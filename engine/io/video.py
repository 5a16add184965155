"""Encoding frame sequences: MP4 (H.264 through imageio-ffmpeg's bundled ffmpeg) or GIF (Pillow).

One encoder for every video the product writes (``facelift render``, ``reconstruct``'s
turntable.mp4, the window's turntable export): :class:`VideoEncoder`, fed one frame at a time.

MP4: yuv420p by default (plays everywhere; CRF 18, visually lossless), or the reference's
lossless yuv444p (libx264 high444, CRF 0, preset veryfast; spec §6.6); ffmpeg's exit status is
checked, so a full disk is an error, not a short video. GIF: each frame quantised to its own
256-colour palette, looping; GIF timing is in 1/100 s, so every frame lasts
:func:`gif_frame_ms` (1/fps rounded to a multiple of 10 ms).
Atomic: frames go to a temporary file in the same folder that is renamed over ``path`` only
when the whole video is written; an error or a cancel removes it and keeps an earlier file.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import numpy as np

from engine.api import CancelToken, ProgressCallback, ProgressEvent, no_progress
from engine.errors import InputError, OutputError
from engine.io.atomic import AtomicFile
from engine.settings import TURNTABLE_FPS

PixFmt = Literal["yuv420p", "yuv444p"]
VIDEO_SUFFIXES = (".mp4", ".gif")
MP4_CRF_DEFAULT = 18
MAX_FPS = 240.0


def gif_frame_ms(fps: float) -> int:
    """How long each GIF frame shows, in ms: 1000/fps rounded to GIF's 10 ms steps, >= 10 ms."""
    return max(10, round(100.0 / fps) * 10)


class VideoEncoder:
    """Push frames in, get one video file: ``path`` ending in .mp4 or .gif.

    ``push(frame)`` takes a (H,W,3) uint8 RGB frame (all frames the same size); ``close()``
    finishes the file and renames it into place; ``abort()`` stops and removes it (an earlier
    file at ``path`` stays). As a context manager it closes on success and aborts on any
    exception (a cancel included). fps in (0, 240]; pix_fmt "yuv420p" (default) or "yuv444p"
    (lossless, as the reference; MP4 only). overwrite=False refuses an existing ``path``.
    Errors are one line naming ``path``: InputError for bad frames or arguments, OutputError
    when the file cannot be written.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        fps: float = TURNTABLE_FPS,
        pix_fmt: PixFmt = "yuv420p",
        *,
        overwrite: bool = True,
    ) -> None:
        out = Path(path)
        suffix = out.suffix.lower()
        if suffix not in VIDEO_SUFFIXES:
            raise InputError(f"{out}: video must end in .mp4 or .gif")
        if pix_fmt not in ("yuv420p", "yuv444p"):
            raise InputError(f"{out}: pixel format must be yuv420p or yuv444p, got {pix_fmt!r}")
        if not (np.isfinite(fps) and 0 < fps <= MAX_FPS):
            raise InputError(f"{out}: fps must be in (0, {MAX_FPS:g}], got {fps}")
        if not out.parent.is_dir():
            raise OutputError(f"{out}: folder {out.parent} does not exist")
        self.path = out
        self.fps = float(fps)
        self.pix_fmt: PixFmt = pix_fmt
        self.frames = 0
        self._gif = suffix == ".gif"
        self._target = AtomicFile(out, overwrite=overwrite)
        self._mp4: Mp4Encoder | None = None
        self._gif_frames: list[Any] = []  # PIL palette images
        self._shape: tuple[int, ...] | None = None

    def push(self, frame: np.ndarray) -> None:
        """Encode one (H,W,3) uint8 frame; InputError for another dtype, shape or size than
        frame 0; OutputError when ffmpeg has stopped (its reason)."""
        if self._target.done:
            raise OutputError(f"{self.path}: the video is already closed")
        arr = np.asarray(frame)
        if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] != 3:
            raise InputError(
                f"{self.path}: frame {self.frames} must be (H,W,3) uint8, got {arr.shape} {arr.dtype}"
            )
        if self._shape is None:
            self._shape = arr.shape
        elif arr.shape != self._shape:
            h, w = self._shape[:2]
            raise InputError(
                f"{self.path}: frame {self.frames} is {arr.shape[1]}x{arr.shape[0]}, frame 0 is {w}x{h}"
            )
        arr = np.ascontiguousarray(arr)
        if self._gif:
            from PIL import Image

            self._gif_frames.append(Image.fromarray(arr, "RGB").quantize(colors=256))
        else:
            if self._mp4 is None:
                self._mp4 = Mp4Encoder(
                    self._target.tmp, self.path, arr.shape[1], arr.shape[0], self.fps, self.pix_fmt
                )
            if not self._mp4.append_data(arr):  # ffmpeg has stopped: close() raises its reason
                mp4, self._mp4 = self._mp4, None
                mp4.close()
                raise OutputError(f"{self.path}: ffmpeg stopped reading frames")
        self.frames += 1

    def close(self) -> Path:
        """Finish the video and rename it over ``path``; on any error nothing is left behind."""
        try:
            if self.frames == 0:
                raise InputError(f"{self.path}: no frames to write")
            if self._mp4 is not None:
                self._mp4.close()
                self._mp4 = None
            else:
                self._save_gif()
            return self._target.commit()
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        """Stop encoding and remove the temp file (an error or a cancel); idempotent."""
        if self._mp4 is not None:
            with contextlib.suppress(Exception):
                self._mp4.kill()
            self._mp4 = None
        self._gif_frames = []
        self._target.discard()

    def __enter__(self) -> VideoEncoder:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def _save_gif(self) -> None:
        images, self._gif_frames = self._gif_frames, []
        try:
            images[0].save(
                self._target.tmp,
                format="GIF",
                save_all=True,
                append_images=images[1:],
                duration=gif_frame_ms(self.fps),
                loop=0,
                disposal=1,
            )
        except OSError as exc:
            mapped = self._target.output_error(exc)
            if mapped is None:
                raise
            raise mapped from exc


def write_video(
    frames: Iterable[np.ndarray],
    path: str | os.PathLike[str],
    fps: float = TURNTABLE_FPS,
    pix_fmt: PixFmt = "yuv420p",
    on_progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    total: int = 0,
) -> Path:
    """Encode uint8 RGB frames (each (H,W,3), all the same size) to ``path`` (.mp4 or .gif)
    through one :class:`VideoEncoder`.

    on_progress gets ProgressEvent("video", i, total) after each frame; ``total`` is only
    used for those events (0 = unknown). cancel: checked before every frame and before the file
    is finished; raises engine.api.Cancelled and leaves no file. Returns the written path.
    """
    token = cancel or CancelToken()
    with VideoEncoder(path, fps, pix_fmt) as encoder:
        for frame in frames:
            token.raise_if_cancelled()
            encoder.push(frame)
            on_progress(ProgressEvent("video", encoder.frames, total, f"encoding frame {encoder.frames}"))
        token.raise_if_cancelled()
    return encoder.path


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
