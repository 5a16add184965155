"""Turntable export driven from the GUI loop: one viewport frame per timer tick.

The frames come from the VisPy viewport (OpenGL lives on the GUI thread), so the export
renders exactly what the user sees, keeps the window responsive, reports progress and can be
cancelled between frames. The camera path (engine.geometry.turntable_azimuths) and the encoder
(engine.io.video.VideoEncoder: MP4 yuv420p or GIF, one timing rule, atomic) are the ones
``facelift render`` uses; only the renderer differs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from engine.api import Cancelled, ProgressEvent
from engine.geometry import turntable_azimuths
from engine.io.images import resize_square
from engine.io.video import VideoEncoder
from engine.settings import RENDER_SIZE, TURNTABLE_ELEVATION, TURNTABLE_FPS, TURNTABLE_FRAMES
from facelift_desktop.worker import Failure


class TurntableJob(QObject):
    """Render ``frames`` square views around +Z with ``render(azimuth, elevation)`` into a video.

    ``render`` takes an orbit azimuth and elevation in degrees (engine.geometry: 270 = the front
    camera) and returns an (H,W,3) uint8 image, resized here to ``size`` square.
    """

    progress = Signal(object)  # ProgressEvent
    finished = Signal(object)  # Path
    failed = Signal(object)  # Failure
    cancelled = Signal()

    def __init__(
        self,
        render: Callable[[float, float], Any],
        path: Path | str,
        frames: int = TURNTABLE_FRAMES,
        fps: float = TURNTABLE_FPS,
        size: int = RENDER_SIZE,
        elevation: float = TURNTABLE_ELEVATION,
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
        self._azimuths: np.ndarray = np.zeros(0)
        self._index = 0
        self._encoder: VideoEncoder | None = None
        self._cancel = False
        self.running = False
        self._timer = QTimer(self)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._step)

    def start(self) -> None:
        """Check the target, open the encoder and start rendering (errors -> ``failed``)."""
        try:
            self._azimuths = turntable_azimuths(self.frames)
            self._encoder = VideoEncoder(self.path, self.fps, overwrite=self.overwrite)
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
            assert self._encoder is not None
            az = float(self._azimuths[self._index])
            self._encoder.push(resize_square(np.asarray(self.render(az, self.elevation)), self.size))
            self._index += 1
            self.progress.emit(
                ProgressEvent(
                    "export", self._index, self.frames, f"turntable frame {self._index}/{self.frames}"
                )
            )
            if self._index >= self.frames:
                self._timer.stop()
                encoder, self._encoder = self._encoder, None
                encoder.close()  # renames the finished video over the target
                self.running = False
                self.finished.emit(self.path)
        except Exception as exc:
            self._abort(exc)

    def _abort(self, exc: BaseException) -> None:
        self._timer.stop()
        self.running = False
        if self._encoder is not None:
            self._encoder.abort()  # removes the temp file; an earlier video stays
            self._encoder = None
        if isinstance(exc, Cancelled):
            self.cancelled.emit()
        else:
            self.failed.emit(Failure.from_exception(exc))
