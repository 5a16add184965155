"""The VisPy side of the viewport that is not the viewer itself: backend choice, backgrounds,
camera presets, the canvas class that times each frame, and the stats record.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass

import vispy
from vispy import gloo, scene

from engine.geometry import FRONT_AZIMUTH
from viewer.sorting import SortResult

BACKGROUNDS: dict[str, tuple[float, float, float]] = {
    "dark": (0.11, 0.12, 0.14),
    "light": (0.93, 0.94, 0.95),
    "black": (0.0, 0.0, 0.0),
    "white": (1.0, 1.0, 1.0),
}

# Camera presets in VisPy turntable terms (see vispy_azimuth). Azimuth 0 puts the eye on -Y
# (FaceLift's front camera, the face looks toward -Y); +90 puts it on +X, the viewer's right
# (FaceLift's "left" slot: its slot names are the subject's sides).
PRESETS: dict[str, tuple[float, float]] = {
    "front": (0.0, 0.0),
    "right": (90.0, 0.0),
    "back": (180.0, 0.0),
    "left": (-90.0, 0.0),
    "top": (0.0, 89.9),
}
LOD_MIN = 2_000
LOD_MAX = 4_000_000


def vispy_azimuth(azimuth_deg: float) -> float:
    """VisPy TurntableCamera azimuth (degrees) of an engine.geometry orbit azimuth.

    VisPy's azimuth 0 puts the eye on -Y, FaceLift's front camera (orbit azimuth 270); both
    increase toward +X, and VisPy's elevation is the orbit's elevation.
    """
    return float(azimuth_deg) - FRONT_AZIMUTH


def configure_vispy() -> bool:
    """Select VisPy's Qt (PySide6) backend and the ``gl+`` GL binding (instancing needs it).

    Returns whether instanced drawing is available; without PyOpenGL VisPy's plain ``gl2``
    binding is used and the splat visual expands its quads on the CPU instead.
    """
    with contextlib.suppress(RuntimeError):  # an app backend is already in use: keep it
        vispy.use(app="pyside6")
    try:
        vispy.use(gl="gl+")
    except (ImportError, RuntimeError):  # VisPy reports a missing PyOpenGL as RuntimeError
        vispy.use(gl="gl2")
        return False
    return True


@dataclass
class ViewerStats:
    """What the status bar shows: splats drawn / visible / total, frames per second."""

    drawn: int
    visible: int
    total: int
    fps: float
    moving: bool


@dataclass
class Progressive:
    """A full set being drawn chunk by chunk into ``fbo``; ``start`` is the next splat."""

    result: SortResult
    fbo: gloo.FrameBuffer
    start: int


class SplatCanvas(scene.SceneCanvas):
    """SceneCanvas that calls a hook before each draw and measures each frame's cost."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        self.before_draw: Callable[[], None] | None = None
        self.after_draw: Callable[[float], None] | None = None
        super().__init__(*args, **kwargs)

    def on_draw(self, event: object) -> None:
        t0 = time.perf_counter()
        if self.before_draw is not None:
            self.before_draw()
        super().on_draw(event)
        # Wait for the GPU so the measured cost is real (llvmpipe renders lazily).
        self.context.finish()
        if self.after_draw is not None:
            self.after_draw(time.perf_counter() - t0)
