"""The reference turntable (spec §6.5): an orbit around +Z, rendered frame by frame.

Encoding the frames into a file is engine.io.export.write_turntable (rendering never imports
engine.io)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from engine.api import CancelToken, ProgressCallback, ProgressEvent, no_progress
from engine.cameras import turntable_cameras
from engine.errors import InputError
from engine.gaussians import Gaussians
from engine.geometry import ORBIT_RADIUS
from engine.render.dispatch import prepare, render
from engine.render.types import Background, check_background, to_uint8
from engine.settings import RENDER_SIZE, TURNTABLE_ELEVATION, TURNTABLE_FRAMES

MAX_FRAMES = 100_000
MAX_SIZE = 8192


def render_turntable(
    gaussians: Gaussians,
    num_frames: int = TURNTABLE_FRAMES,
    elevation_deg: float = TURNTABLE_ELEVATION,
    size: int = RENDER_SIZE,
    background: Background = (1.0, 1.0, 1.0),
    on_progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    *,
    backend: str = "auto",
    radius: float = ORBIT_RADIUS,
) -> Iterator[np.ndarray]:
    """Frames of the turntable, one at a time: uint8 (size,size,3) = floor(clip(rgb*255)).

    Cameras: engine.cameras.turntable_cameras (azimuth 270 -> 630 deg, ``radius`` (2.7, or a
    model folder's rig radius, engine.cameras.rig_radius), hfov 50, frame 0 = the front input camera). Arguments are checked (InputError) and the Gaussians
    prepared when this is called; rendering happens as the iterator is consumed. After each
    frame: ProgressEvent("turntable", i, num_frames). cancel is checked before every frame
    (engine.api.Cancelled).
    """
    _check(num_frames, elevation_deg, size)
    check_background(background)
    cams = turntable_cameras(num_frames, float(elevation_deg), size, radius=float(radius))
    prep, concrete = prepare(gaussians, backend)
    token = cancel or CancelToken()

    def frames() -> Iterator[np.ndarray]:
        for i in range(num_frames):
            token.raise_if_cancelled()
            res = render(prep, cams.c2w[i], cams.fxfycxcy[i], size, size, background, concrete)
            yield to_uint8(res.rgb)
            on_progress(
                ProgressEvent(
                    "turntable", i + 1, num_frames, f"turntable frame {i + 1}/{num_frames} ({res.backend})"
                )
            )

    return frames()


def _check(num_frames: int, elevation_deg: float, size: int) -> None:
    if int(num_frames) != num_frames or not 1 <= num_frames <= MAX_FRAMES:
        raise InputError(f"turntable: frames must be an integer in 1..{MAX_FRAMES}, got {num_frames}")
    if int(size) != size or not 8 <= size <= MAX_SIZE:
        raise InputError(f"turntable: size must be an integer in 8..{MAX_SIZE}, got {size}")
    if not (np.isfinite(elevation_deg) and -89.0 <= elevation_deg <= 89.0):
        raise InputError(f"turntable: elevation must be within -89..89 degrees, got {elevation_deg}")
