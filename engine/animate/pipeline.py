"""Driving a rigged head with a driver, frame by frame: tracking pass, then motion ->
deformed Gaussians -> rendered frame (and optionally the driver beside it)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np

from engine.animate.deform import Pose, deform
from engine.animate.driver import DriverInfo, open_driver, track
from engine.animate.motion import Motion, Retargeter
from engine.animate.rig import Rig
from engine.animate.similarity import rotation_matrix, rotation_vector
from engine.api import CancelToken, ProgressCallback, ProgressEvent, no_progress
from engine.errors import InputError
from engine.gaussians import Gaussians

CameraMode = Literal["front", "orbit", "driver"]
CAMERA_MODES: tuple[str, ...] = ("front", "orbit", "driver")
PHOTO_FRAMES = 25  # a photo driver: the head moves from its own face to the photo's over these
ORBIT_SWING_DEG = 25.0
ORBIT_PERIOD_S = 6.0


@dataclass(frozen=True)
class DriverTrack:
    """A tracked driver: ``info`` and the landmarks of each frame ((478,3) pixels, or None)."""

    info: DriverInfo
    landmarks: list[np.ndarray | None]


def track_driver(
    path: str | os.PathLike[str],
    on_progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> DriverTrack:
    """Face mesh of every frame of the driver. InputError when no frame has a face."""
    info, frames = open_driver(path)
    return track_frames(info, frames, on_progress, cancel)


def track_frames(
    info: DriverInfo,
    frames: Iterable[np.ndarray],
    on_progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> DriverTrack:
    """Face mesh of each of a driver's ``frames`` ((H,W,3) uint8 RGB), described by ``info``.
    After the first frame with a face (the neutral one), the lower lip and jaw follow the
    optical flow from it (engine.animate.flow: the face mesh alone holds an opening mouth back).
    InputError when no frame has a face."""
    from engine.animate.flow import follow_lower_face, neutral_frame

    found: list[np.ndarray | None] = []
    neutral = None
    for i, frame in enumerate(frames):
        if cancel is not None:
            cancel.raise_if_cancelled()
        lm = track(frame)
        if lm is not None and not info.photo:
            if neutral is None:
                neutral = neutral_frame(frame, lm)
            else:
                lm = follow_lower_face(neutral, frame, lm)
        found.append(lm)
        on_progress(ProgressEvent("track", i + 1, info.frames, f"tracking driver frame {i + 1}"))
    if not found:
        raise InputError(f"{info.path}: the driver has no frames")
    if all(lm is None for lm in found):
        raise InputError(f"{info.path}: no face found in the driver")
    return DriverTrack(info, found)


def motions(rig: Rig, driver: DriverTrack, *, smooth: bool = True, follow: bool = False) -> list[Motion]:
    """The head's motion per output frame. A video: relative to its first frame with a face
    (frames before it hold the neutral pose). A photo: PHOTO_FRAMES frames easing from the
    head's own face to the photo's pose and expression."""
    if driver.info.photo:
        target = Retargeter(rig, None, driver.info.fps, smooth=False)(driver.landmarks[0])
        return [_ease(target, (i + 1) / PHOTO_FRAMES) for i in range(PHOTO_FRAMES)]
    neutral = next(lm for lm in driver.landmarks if lm is not None)
    retarget = Retargeter(rig, neutral, driver.info.fps, smooth=smooth, follow_translation=follow)
    return [retarget(lm) for lm in driver.landmarks]


def _ease(target: Motion, t: float) -> Motion:
    k = t * t * (3.0 - 2.0 * t)
    rot = rotation_matrix(k * rotation_vector(target.pose.rotation))
    return Motion(k * target.offsets, Pose(rot, k * target.pose.translation), True)


def frame_camera(mode: str, index: int, fps: float, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(c2w (4,4), fxfycxcy (4,)) of output frame ``index``: the front camera ("front",
    "driver") or a camera swinging +-ORBIT_SWING_DEG around the head ("orbit")."""
    from engine.cameras import facelift_cameras, orbit_camera

    if mode == "orbit":
        az = 270.0 + ORBIT_SWING_DEG * np.sin(2.0 * np.pi * index / (fps * ORBIT_PERIOD_S))
        cam = orbit_camera(float(az), 0.0, size=size)
    else:
        cam = facelift_cameras(size)
    return cam.c2w[0].astype(np.float64), cam.fxfycxcy[0].astype(np.float64)


def animated_gaussians(rig: Rig, moves: list[Motion]) -> Iterator[Gaussians]:
    """The deformed Gaussians of each motion."""
    for m in moves:
        yield deform(rig, m.offsets, m.pose)


def render_frames(
    rig: Rig,
    moves: list[Motion],
    *,
    camera: str = "front",
    size: int = 512,
    fps: float = 25.0,
    driver_frames: Iterator[np.ndarray] | None = None,
    on_progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    on_gaussians: object = None,
) -> Iterator[np.ndarray]:
    """uint8 (size, size[+driver width], 3) frames: the animated head on white, with the driver
    frame (scaled to ``size`` high) on its left when ``driver_frames`` is given.
    ``on_gaussians(i, gaussians)`` is called with each frame's deformed Gaussians."""
    from engine.render import render, to_uint8

    if camera not in CAMERA_MODES:
        raise InputError(f"--camera: {camera!r} is not one of {', '.join(CAMERA_MODES)}")
    last_driver: np.ndarray | None = None
    for i, g in enumerate(animated_gaussians(rig, moves)):
        if cancel is not None:
            cancel.raise_if_cancelled()
        if callable(on_gaussians):
            on_gaussians(i, g)
        c2w, k = frame_camera(camera, i, fps, size)
        img = to_uint8(render(g, c2w, k, size, size, backend="torch-cpu").rgb)
        if driver_frames is not None:
            nxt = next(driver_frames, None)
            last_driver = _fit_height(nxt, size) if nxt is not None else last_driver
            if last_driver is not None:
                img = np.concatenate([last_driver, img], axis=1)
        on_progress(ProgressEvent("animate", i + 1, len(moves), f"frame {i + 1}/{len(moves)}"))
        yield img


def _fit_height(frame: np.ndarray, size: int) -> np.ndarray:
    """The frame scaled to ``size`` rows and an even width (yuv420p needs even sizes)."""
    from PIL import Image

    h, w = frame.shape[:2]
    width = max(2, round(w * size / h / 2.0) * 2)
    return np.asarray(Image.fromarray(frame).resize((width, size), Image.Resampling.BICUBIC))
