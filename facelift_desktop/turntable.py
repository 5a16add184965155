"""The window's turntable export: frames from the GL viewport, or from the engine's renderer.

With a viewport, :class:`TurntableJob` renders one viewport frame per GUI-loop turn (OpenGL lives
on the GUI thread), so the video shows exactly what the user sees, the window stays responsive and
a cancel takes effect between frames. Without one (no OpenGL display), :func:`engine_turntable_job`
renders the same Gaussians with the engine's rasteriser on a thread (engine.io.export.write_turntable,
what ``facelift render`` does). Both go round the one camera path (engine.geometry.turntable_azimuths)
into the one encoder (engine.io.video: MP4 yuv420p or GIF, one timing rule, written atomically).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QTimer

from engine.api import CancelToken, ProgressCallback, ProgressEvent
from engine.gaussians import Gaussians
from engine.geometry import turntable_azimuths
from engine.io.images import resize_square
from engine.io.video import VideoEncoder
from engine.settings import RENDER_SIZE, TURNTABLE_ELEVATION, TURNTABLE_FPS, TURNTABLE_FRAMES
from facelift_desktop.jobs import Job, TaskJob


@dataclass
class TurntableSpec:
    """One turntable video: ``frames`` square views of ``size`` px (a multiple of 8: H.264), at
    ``fps``, the orbit camera ``elevation`` degrees above the equator; .mp4 or .gif by suffix."""

    path: Path | str
    frames: int = TURNTABLE_FRAMES
    fps: int = int(TURNTABLE_FPS)
    size: int = RENDER_SIZE
    elevation: float = TURNTABLE_ELEVATION
    overwrite: bool = False

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        self.frames, self.fps, self.size = int(self.frames), int(self.fps), int(self.size) // 8 * 8
        self.elevation = float(self.elevation)


class FramesJob(Job):
    """Render ``count`` frames with ``frame(index)`` into a video on the GUI loop, one frame a
    turn: ``frame`` returns an (H,W,3) uint8 image, resized here to ``size`` square. ``path``
    (.mp4/.gif) is written atomically at ``fps``; a cancel or an error leaves no file (an
    earlier one stays); overwrite=False refuses an existing ``path``."""

    def __init__(
        self,
        frame: Callable[[int], Any],
        count: int,
        path: Path | str,
        fps: float,
        size: int,
        overwrite: bool = False,
        what: str = "video",
    ) -> None:
        super().__init__()
        self.frame = frame
        self.count = int(count)
        self.path = Path(path)
        self.fps = float(fps)
        self.size = int(size)
        self.overwrite = overwrite
        self.what = what
        self._index = 0
        self._encoder: VideoEncoder | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._step)

    def _prepare(self) -> None:
        """Checks and set-up before the encoder opens (an error ends the job as ``failed``)."""

    def start(self) -> None:
        """Check the target, open the encoder and start rendering (errors -> ``failed``)."""
        self._begin()
        try:
            self._prepare()
            self._encoder = VideoEncoder(self.path, self.fps, overwrite=self.overwrite)
        except Exception as exc:
            self._abort(exc)
            return
        self._timer.start()

    def cancel_now(self) -> None:
        """Cancel and clean up at once (the window is closing)."""
        self.cancel()
        if self.running:
            self._step()

    def _step(self) -> None:
        try:
            self._token.raise_if_cancelled()
            assert self._encoder is not None
            frame = np.asarray(self.frame(self._index))
            self._encoder.push(resize_square(frame, self.size))
            self._index += 1
            n = self.count
            self.progress.emit(
                ProgressEvent("export", self._index, n, f"{self.what} frame {self._index}/{n}")
            )
            if self._index >= n:
                self._timer.stop()
                encoder, self._encoder = self._encoder, None
                encoder.close()  # renames the finished video over the target
                self._succeed(self.path)
        except Exception as exc:
            self._abort(exc)

    def _abort(self, exc: BaseException) -> None:
        self._timer.stop()
        if self._encoder is not None:
            self._encoder.abort()  # removes the temp file; an earlier video stays
            self._encoder = None
        self._stop(exc)


class TurntableJob(FramesJob):
    """Render ``spec.frames`` views with ``render(azimuth, elevation)`` into a video on the GUI loop.

    ``render`` takes an orbit azimuth and elevation in degrees (engine.geometry: 270 = the front
    camera) and returns an (H,W,3) uint8 image, resized here to ``spec.size`` square.
    """

    def __init__(self, render: Callable[[float, float], Any], spec: TurntableSpec) -> None:
        super().__init__(
            self._view, spec.frames, Path(spec.path), spec.fps, spec.size, spec.overwrite, "turntable"
        )
        self.spec = spec
        self.render = render
        self._azimuths: np.ndarray = np.zeros(0)

    def _prepare(self) -> None:
        self._azimuths = turntable_azimuths(self.spec.frames)

    def _view(self, index: int) -> Any:
        return self.render(float(self._azimuths[index]), self.spec.elevation)


def engine_turntable_job(
    gaussians: Gaussians, spec: TurntableSpec, background: tuple[float, float, float]
) -> TaskJob:
    """The turntable of ``gaussians`` rendered by the engine on a thread (no GL viewport)."""
    from engine.io.atomic import refuse_overwrite

    refuse_overwrite(spec.path, spec.overwrite)

    def work(on_progress: ProgressCallback, cancel: CancelToken) -> Path:
        from engine.io.export import write_turntable

        def progress(event: ProgressEvent) -> None:
            on_progress(ProgressEvent("export", event.step, event.total, event.message))

        path = write_turntable(
            gaussians,
            spec.path,
            spec.frames,
            spec.fps,
            spec.elevation,
            spec.size,
            background,
            on_progress=progress,
            cancel=cancel,
        )
        cancel.raise_if_cancelled()
        return Path(path)

    return TaskJob(work, "turntable")
