"""Turntable export driven from the GUI loop: one viewport frame per timer tick.

The frames come from the VisPy viewport (OpenGL lives on the GUI thread), so the export
renders exactly what the user sees, keeps the window responsive, reports progress and can be
cancelled between frames. The video is encoded into a temp file that is renamed only when
every frame is written.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from engine.api import Cancelled, OutputError, ProgressEvent
from engine.io.atomic import atomic_write, refuse_overwrite
from engine.io.video import Mp4Encoder
from facelift_desktop.exports import turntable_azimuths
from facelift_desktop.worker import Failure


def _resize(image: np.ndarray, size: int) -> np.ndarray:
    """(H,W,3) uint8 resampled to (size,size,3) with Lanczos (area-like when shrinking)."""
    if image.shape[0] == size and image.shape[1] == size:
        return image
    from PIL import Image

    return np.asarray(Image.fromarray(image).resize((size, size), Image.Resampling.LANCZOS))


class TurntableJob(QObject):
    """Render ``frames`` square views around +Z with ``render(azimuth, elevation)`` into a video."""

    progress = Signal(object)  # ProgressEvent
    finished = Signal(object)  # Path
    failed = Signal(object)  # Failure
    cancelled = Signal()

    def __init__(
        self,
        render: Callable[[float, float], Any],
        path: Path | str,
        frames: int = 150,
        fps: int = 30,
        size: int = 512,
        elevation: float = 0.0,
        overwrite: bool = False,
    ) -> None:
        super().__init__()
        self.path = Path(path)
        self.render = render
        self.frames = int(frames)
        self.fps = int(fps)
        self.size = int(size) // 8 * 8  # H.264 wants multiples of 8 here
        self.elevation = float(elevation)
        self.overwrite = overwrite
        self._azimuths = turntable_azimuths(self.frames)
        self._index = 0
        self._stack = contextlib.ExitStack()
        self._writer: Any = None
        self._cancel = False
        self.running = False
        self._timer = QTimer(self)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._step)

    def start(self) -> None:
        """Check the target, open the temp file and start rendering (errors -> ``failed``)."""
        import imageio.v2 as imageio

        try:
            refuse_overwrite(self.path, self.overwrite)
            suffix = self.path.suffix.lower()
            if suffix not in (".mp4", ".gif"):
                raise OutputError(f"{self.path}: a turntable is written as .mp4 or .gif")
            tmp = self._stack.enter_context(atomic_write(self.path, overwrite=self.overwrite))
            if suffix == ".mp4":
                # engine.io.video's encoder checks ffmpeg's exit status (imageio's writer does not,
                # so a full disk would pass for a finished video).
                self._writer = Mp4Encoder(tmp, self.path, self.size, self.size, self.fps)
            else:
                self._writer = imageio.get_writer(str(tmp), format="GIF", duration=1000.0 / self.fps, loop=0)
        except Exception as exc:
            self._abort(exc)
            return
        self.running = True
        self._timer.start()

    def cancel(self) -> None:
        """Stop after the current frame; the temp file is removed."""
        self._cancel = True

    def cancel_now(self) -> None:
        """Cancel and clean up at once (the window is closing)."""
        self._cancel = True
        if self.running:
            self._step()

    def _step(self) -> None:
        try:
            if self._cancel:
                raise Cancelled("export cancelled by the user")
            az = float(self._azimuths[self._index])
            frame = _resize(np.asarray(self.render(az, self.elevation)), self.size)
            if self._writer.append_data(frame) is False:  # the MP4 encoder stopped: close() says why
                self._writer.close()
            self._index += 1
            self.progress.emit(
                ProgressEvent(
                    "export", self._index, self.frames, f"turntable frame {self._index}/{self.frames}"
                )
            )
            if self._index >= self.frames:
                self._timer.stop()
                self._writer.close()
                self._writer = None
                self._stack.close()  # renames the temp file over the target
                self.running = False
                self.finished.emit(self.path)
        except Exception as exc:
            self._abort(exc)

    def _abort(self, exc: BaseException) -> None:
        self._timer.stop()
        self.running = False
        if self._writer is not None:
            with contextlib.suppress(Exception):
                getattr(self._writer, "kill", self._writer.close)()
            self._writer = None
        # leaving the atomic_write context with the exception deletes the temp file
        with contextlib.suppress(BaseException):
            self._stack.__exit__(type(exc), exc, exc.__traceback__)
        if isinstance(exc, Cancelled):
            self.cancelled.emit()
        else:
            self.failed.emit(Failure.from_exception(exc))
