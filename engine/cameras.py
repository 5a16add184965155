"""Camera sets in the FaceLift world frame (+Z up, face toward -Y), OpenCV convention.

A camera is a camera-to-world matrix ``c2w`` (4,4) (columns: x right, y down, z forward,
position) plus pinhole intrinsics ``fxfycxcy`` (4,) in pixels. Only numpy. The rig's constants,
the orbit path and the rotation maths are engine.geometry's; this module turns them into
CameraSets and reads the rig's json.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.errors import InputError
from engine.geometry import (
    FOV_DEG,
    ORBIT_RADIUS,
    REFERENCE_SIZE,
    VIEW_AZIMUTHS,
    VIEW_NAMES,
    orbit_c2w,
    square_intrinsics,
    turntable_azimuths,
)
from engine.settings import TURNTABLE_ELEVATION, TURNTABLE_FRAMES

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
DEFAULT_CAMERAS_JSON = RESOURCES / "cameras" / "opencv_cameras.json"

SLOT_ORDER: tuple[int, ...] = (2, 1, 0, 5, 4, 3)
"""json frame index for each view slot (front, front_right, right, back, left, front_left)."""


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


def rig_radius(cameras: CameraSet) -> float:
    """The mean distance of the cameras from the origin: the turntable radius of a rig (2.7 for
    FaceLift's six)."""
    return float(np.linalg.norm(cameras.centers.astype(np.float64), axis=1).mean())


def facelift_cameras(width: int = REFERENCE_SIZE, height: int | None = None) -> CameraSet:
    """The six FaceLift input cameras in slot order, intrinsics scaled to width x height."""
    cams = load_cameras_json()
    return cams.scaled(width, height if height is not None else width)


def orbit_camera(
    azimuth_deg: float,
    elevation_deg: float = 0.0,
    radius: float = ORBIT_RADIUS,
    size: int = REFERENCE_SIZE,
    fov_deg: float = FOV_DEG,
) -> CameraSet:
    """One camera on the FaceLift orbit around +Z looking at the origin (engine.geometry.orbit_c2w).

    Azimuth 270 deg is the front camera (0,-r,0); increasing azimuth moves toward +x.
    """
    c2w = orbit_c2w(azimuth_deg, elevation_deg, radius)
    return CameraSet(c2w[None].astype(np.float32), square_intrinsics(size, fov_deg)[None], size, size)


def turntable_cameras(
    num_frames: int = TURNTABLE_FRAMES,
    elevation_deg: float = TURNTABLE_ELEVATION,
    size: int = REFERENCE_SIZE,
    radius: float = ORBIT_RADIUS,
) -> CameraSet:
    """The reference turntable (spec §6.5) on engine.geometry.turntable_azimuths: azimuths
    linspace(270, 630, n, endpoint=False). Frame 0 coincides with the front input camera.
    """
    cams = [orbit_camera(a, elevation_deg, radius, size) for a in turntable_azimuths(num_frames)]
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


def view_camera(
    view: str = "front", size: int = REFERENCE_SIZE, elevation_deg: float = TURNTABLE_ELEVATION
) -> CameraSet:
    """One camera: the FaceLift input camera of ``view`` (exact reference numbers) at ``size``
    px, or, with a non-zero elevation, the orbit camera at that view's azimuth raised by it."""
    slot = view_slot(view)
    if elevation_deg == 0.0:
        cams = facelift_cameras(size)
        return CameraSet(cams.c2w[slot : slot + 1], cams.fxfycxcy[slot : slot + 1], size, size)
    return orbit_camera(VIEW_AZIMUTHS[slot], elevation_deg, size=size)
