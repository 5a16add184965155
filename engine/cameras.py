"""Cameras in the FaceLift world frame (+Z up, face toward -Y), OpenCV convention.

A camera is a camera-to-world matrix ``c2w`` (4,4) (columns: x right, y down, z forward,
position) plus pinhole intrinsics ``fxfycxcy`` (4,) in pixels. Only numpy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.api import VIEW_NAMES, InputError

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
DEFAULT_CAMERAS_JSON = RESOURCES / "cameras" / "opencv_cameras.json"

SLOT_ORDER: tuple[int, ...] = (2, 1, 0, 5, 4, 3)
"""json frame index for each view slot (front, front_right, right, back, left, front_left)."""

REFERENCE_SIZE = 512
ORBIT_RADIUS = 2.7
FOV_DEG = 50.0


@dataclass(frozen=True)
class CameraSet:
    """V cameras: c2w (V,4,4) float32 OpenCV camera-to-world; fxfycxcy (V,4) float32 px;
    width, height: the image size the intrinsics refer to."""

    c2w: np.ndarray
    fxfycxcy: np.ndarray
    width: int
    height: int

    def __len__(self) -> int:
        return int(self.c2w.shape[0])

    def scaled(self, width: int, height: int) -> CameraSet:
        """The same cameras for an image of width x height (fx, cx by W/w; fy, cy by H/h)."""
        k = self.fxfycxcy.astype(np.float32).copy()
        sx = np.float32(width / self.width)
        sy = np.float32(height / self.height)
        k[:, 0] *= sx
        k[:, 2] *= sx
        k[:, 1] *= sy
        k[:, 3] *= sy
        return CameraSet(self.c2w, k, width, height)

    @property
    def centers(self) -> np.ndarray:
        """(V,3) camera positions."""
        return self.c2w[:, :3, 3]


def load_cameras_json(
    path: Path | str = DEFAULT_CAMERAS_JSON, order: tuple[int, ...] | None = SLOT_ORDER
) -> CameraSet:
    """Read a FaceLift-style ``opencv_cameras.json`` ({"frames": [{w,h,fx,fy,cx,cy,w2c}]}).

    ``order`` picks and reorders frames (the FaceLift slot order by default; ``None`` keeps
    the file's order). c2w = inv(w2c) in float64, then float32, as the reference does.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        frames = data["frames"]
        if order is None:
            order = tuple(range(len(frames)))
        picked = [frames[i] for i in order]
        w2c = np.array([f["w2c"] for f in picked], dtype=np.float64)
        k = np.array([[f["fx"], f["fy"], f["cx"], f["cy"]] for f in picked], dtype=np.float32)
        sizes = {(int(f["w"]), int(f["h"])) for f in picked}
    except (OSError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise InputError(f"{path}: not a usable cameras json ({type(exc).__name__}: {exc})") from exc
    if w2c.shape[1:] != (4, 4):
        raise InputError(f"{path}: every w2c must be 4x4, got {w2c.shape[1:]}")
    if len(sizes) != 1:
        raise InputError(f"{path}: frames have different image sizes {sorted(sizes)}")
    if not np.isfinite(w2c).all() or not np.isfinite(k).all():
        raise InputError(f"{path}: camera values are not finite")
    try:
        c2w = np.linalg.inv(w2c).astype(np.float32)
    except np.linalg.LinAlgError as exc:
        raise InputError(f"{path}: a w2c matrix is not invertible") from exc
    ((width, height),) = sizes
    return CameraSet(c2w, k, width, height)


def facelift_cameras(width: int = REFERENCE_SIZE, height: int | None = None) -> CameraSet:
    """The six FaceLift input cameras in slot order, intrinsics scaled to width x height."""
    cams = load_cameras_json()
    return cams.scaled(width, height if height is not None else width)


def look_at_c2w(position: np.ndarray, target: np.ndarray, up: np.ndarray) -> np.ndarray:
    """OpenCV camera-to-world (4,4) float64 at ``position`` looking at ``target``.

    Columns: right, down (= -camera up), forward, position.
    """
    position = np.asarray(position, dtype=np.float64)
    forward = np.asarray(target, dtype=np.float64) - position
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, np.asarray(up, dtype=np.float64))
    norm = np.linalg.norm(right)
    if not norm > 1e-9:  # also catches NaN
        raise InputError("camera looks along its up vector (or at itself); the view is undefined")
    right /= norm
    cam_up = np.cross(right, forward)
    c2w = np.eye(4)
    c2w[:3, 0] = right
    c2w[:3, 1] = -cam_up
    c2w[:3, 2] = forward
    c2w[:3, 3] = position
    return c2w


def orbit_camera(
    azimuth_deg: float,
    elevation_deg: float = 0.0,
    radius: float = ORBIT_RADIUS,
    size: int = REFERENCE_SIZE,
    fov_deg: float = FOV_DEG,
) -> CameraSet:
    """One camera on the FaceLift orbit around +Z looking at the origin.

    Azimuth 270 deg is the front camera (0,-r,0); increasing azimuth moves toward +x.
    """
    if not -90.0 < elevation_deg < 90.0:
        raise InputError(f"elevation must be between -90 and 90 degrees (exclusive), got {elevation_deg}")
    az = np.deg2rad(azimuth_deg)
    el = np.deg2rad(elevation_deg)
    pos = radius * np.array([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])
    c2w = look_at_c2w(pos, np.zeros(3), np.array([0.0, 0.0, 1.0]))
    f = size / (2.0 * np.tan(np.deg2rad(fov_deg) / 2.0))
    k = np.array([[f, f, size / 2.0, size / 2.0]], dtype=np.float32)
    return CameraSet(c2w[None].astype(np.float32), k, size, size)


def turntable_cameras(
    num_frames: int = 150,
    elevation_deg: float = 0.0,
    size: int = REFERENCE_SIZE,
    radius: float = ORBIT_RADIUS,
) -> CameraSet:
    """The reference turntable (spec §6.5): azimuths linspace(270, 630, n, endpoint=False).

    Frame 0 coincides with the front input camera.
    """
    if num_frames < 1:
        raise InputError(f"turntable needs at least one frame, got {num_frames}")
    azimuths = np.linspace(270.0, 630.0, num_frames, endpoint=False)
    cams = [orbit_camera(a, elevation_deg, radius, size) for a in azimuths]
    return CameraSet(
        np.concatenate([c.c2w for c in cams]),
        np.concatenate([c.fxfycxcy for c in cams]),
        size,
        size,
    )


def view_slot(name: str) -> int:
    """Slot index of a view name (front, front_right, right, back, left, front_left)."""
    try:
        return VIEW_NAMES.index(name)
    except ValueError:
        raise InputError(f"unknown view {name!r}; choose one of {', '.join(VIEW_NAMES)}") from None
