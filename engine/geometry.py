"""Rotations and the FaceLift camera rig: the one home of the maths every layer shares.

Numpy only (the viewer imports it too). Conventions:

- Quaternions are (w, x, y, z), Hamilton product; a quaternion and its negative are the same
  rotation. Rotation matrices act on column vectors (x' = R x).
- The FaceLift world: +Z up, the face looks toward -Y. The six input cameras sit on a circle of
  radius ``ORBIT_RADIUS`` at z = 0, look at the origin, and see ``FOV_DEG`` across a
  ``REFERENCE_SIZE`` px square (the exact numbers are resources/cameras/opencv_cameras.json,
  read by engine.cameras; these constants reproduce them).
- Orbit azimuth (degrees) places a camera at radius * (cos el cos az, cos el sin az, sin el):
  270 is the front camera (0, -r, 0), and increasing azimuth moves it toward +X. A turntable
  starts at the front camera and turns once in that direction.
- Camera poses are OpenCV camera-to-world (4,4): columns x right, y down, z forward, position.

engine.cameras builds CameraSets (poses + intrinsics) from these; viewer/canvas.py converts the
orbit azimuth to VisPy's TurntableCamera azimuth (0 = the front camera, same direction).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from engine.errors import InputError

# ---- the FaceLift camera rig -------------------------------------------------------------

REFERENCE_SIZE = 512
"""Image side (px) the reference's intrinsics refer to."""
ORBIT_RADIUS = 2.7
"""Distance of every input camera (and the turntable camera) from the origin."""
FOV_DEG = 50.0
"""Field of view of the input cameras across the square image (degrees)."""

VIEW_NAMES: tuple[str, ...] = ("front", "front_right", "right", "back", "left", "front_left")
"""The six input views in slot order (the multi-view diffusion's output order)."""
VIEW_AZIMUTHS: tuple[float, ...] = (270.0, 225.0, 180.0, 90.0, 0.0, 315.0)
"""Orbit azimuth (degrees) of each view slot's input camera."""
FRONT_AZIMUTH = VIEW_AZIMUTHS[0]
"""Orbit azimuth of the front camera: where every turntable starts."""


def focal_length(size: float, fov_deg: float = FOV_DEG) -> float:
    """Pinhole focal length in px for an image ``size`` px across that sees ``fov_deg`` across.

    FaceLift's 512 px / 50 deg gives 548.99 px (the cameras json's fx = fy).
    """
    return float(size / (2.0 * np.tan(np.deg2rad(fov_deg) / 2.0)))


def square_intrinsics(size: int, fov_deg: float = FOV_DEG) -> np.ndarray:
    """(4,) float32 fx, fy, cx, cy of a centred pinhole camera over a ``size`` px square."""
    f = focal_length(size, fov_deg)
    return np.array([f, f, size / 2.0, size / 2.0], dtype=np.float32)


# ---- quaternions and rotation matrices ---------------------------------------------------


def rotation_entries(w: Any, x: Any, y: Any, z: Any) -> tuple[Any, ...]:
    """The nine entries R00, R01, ..., R22 (row-major) of the rotation of the unit quaternion
    (w, x, y, z).

    Plain arithmetic, so it works element-wise on numpy arrays and torch tensors alike (the torch
    renderer stacks it with torch.stack): the one place this formula is written.
    """
    return (
        1 - 2 * (y * y + z * z),
        2 * (x * y - w * z),
        2 * (x * z + w * y),
        2 * (x * y + w * z),
        1 - 2 * (x * x + z * z),
        2 * (y * z - w * x),
        2 * (x * z - w * y),
        2 * (y * z + w * x),
        1 - 2 * (x * x + y * y),
    )


def quat_to_matrix(q: np.ndarray, dtype: type[np.floating[Any]] = np.float64) -> np.ndarray:
    """(...,3,3) rotation matrices of (...,4) quaternions (w,x,y,z), normalised first.

    Computed in ``dtype`` (float64 by default; the viewer asks for float32). A zero quaternion
    gives the zero matrix (its norm is clamped to 1e-12, as torch's F.normalize does).
    """
    q = np.asarray(q, dtype=dtype)
    q = q / np.maximum(np.linalg.norm(q, axis=-1, keepdims=True), dtype(1e-12))
    w, x, y, z = np.moveaxis(q, -1, 0)
    return np.stack(rotation_entries(w, x, y, z), axis=-1).reshape((*q.shape[:-1], 3, 3))


def covariances(
    quats: np.ndarray, scales: np.ndarray, dtype: type[np.floating[Any]] = np.float64
) -> np.ndarray:
    """(N,3,3) covariances Sigma = R S S R^T of Gaussians with orientations ``quats`` (N,4)
    (w,x,y,z, normalised here) and activated standard deviations ``scales`` (N,3), in ``dtype``."""
    m = quat_to_matrix(quats, dtype) * np.asarray(scales, dtype=dtype)[:, None, :]  # R S
    return np.asarray(m @ np.swapaxes(m, 1, 2))


def matrix_to_quat(r: np.ndarray) -> np.ndarray:
    """(...,4) float64 unit quaternions (w,x,y,z) of (...,3,3) proper rotation matrices.

    Shepperd's method: each matrix uses the largest of w, x, y, z as its pivot, so the result is
    accurate for every rotation (also near 180 degrees). The sign is the pivot's: w >= 0 whenever
    w is the pivot.
    """
    r = np.asarray(r, dtype=np.float64)
    batch = r.shape[:-2]
    m = r.reshape(-1, 9).T  # m[3 * row + col]: (9,N), one contiguous array per entry
    tr = m[0] + m[4] + m[8]
    cases = np.stack([tr, m[0], m[4], m[8]]).argmax(axis=0)
    q = np.empty((4, len(tr)))
    # Each pivot's formula runs on its own matrices only (compressed 1-D entries, not masks
    # into the (N,3,3) array: the indexing was most of the cost).
    c = cases == 0
    e = m[:, c]
    s = np.sqrt(np.maximum(1.0 + (e[0] + e[4] + e[8]), 1e-12)) * 2
    q[:, c] = (0.25 * s, (e[7] - e[5]) / s, (e[2] - e[6]) / s, (e[3] - e[1]) / s)
    for i, (a, b, d) in enumerate(((0, 1, 2), (1, 2, 0), (2, 0, 1)), start=1):
        c = cases == i
        e = m[:, c]
        s = np.sqrt(np.maximum(1.0 + e[4 * a] - e[4 * b] - e[4 * d], 1e-12)) * 2
        block = np.empty((4, len(s)))
        block[0] = (e[3 * d + b] - e[3 * b + d]) / s
        block[1 + a] = 0.25 * s
        block[1 + b] = (e[3 * b + a] + e[3 * a + b]) / s
        block[1 + d] = (e[3 * d + a] + e[3 * a + d]) / s
        q[:, c] = block
    q = np.ascontiguousarray(q.T)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    return q.reshape((*batch, 4))


def quat_multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product a*b of (...,4) quaternions (w,x,y,z), float64; broadcasts.

    The rotation of a*b is R(a) @ R(b): rotate by b first, then by a.
    """
    aw, ax, ay, az = np.moveaxis(np.asarray(a, dtype=np.float64), -1, 0)
    bw, bx, by, bz = np.moveaxis(np.asarray(b, dtype=np.float64), -1, 0)
    return np.stack(
        [
            aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
        ],
        axis=-1,
    )


# ---- camera poses and orbit paths --------------------------------------------------------


def look_at_c2w(position: Sequence[float] | np.ndarray, target: Sequence[float] | np.ndarray,
                up: Sequence[float] | np.ndarray) -> np.ndarray:  # fmt: skip
    """OpenCV camera-to-world (4,4) float64 at ``position`` looking at ``target``.

    Columns: right, down (= -camera up), forward, position. InputError when the camera looks
    along ``up`` (or at itself): the view is undefined.
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


def orbit_position(
    azimuth_deg: float, elevation_deg: float = 0.0, radius: float = ORBIT_RADIUS
) -> np.ndarray:
    """(3,) float64 point on the orbit sphere at this azimuth and elevation (degrees)."""
    az = np.deg2rad(azimuth_deg)
    el = np.deg2rad(elevation_deg)
    return radius * np.array([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])


def orbit_c2w(azimuth_deg: float, elevation_deg: float = 0.0, radius: float = ORBIT_RADIUS) -> np.ndarray:
    """(4,4) float64 OpenCV camera-to-world of the orbit camera: at ``orbit_position`` looking at
    the origin, +Z up. InputError unless -90 < elevation < 90 degrees."""
    if not -90.0 < elevation_deg < 90.0:
        raise InputError(f"elevation must be between -90 and 90 degrees (exclusive), got {elevation_deg}")
    return look_at_c2w(orbit_position(azimuth_deg, elevation_deg, radius), np.zeros(3), (0.0, 0.0, 1.0))


def turntable_azimuths(num_frames: int) -> np.ndarray:
    """(num_frames,) float64 orbit azimuths (degrees) of the reference turntable (spec §6.5):
    linspace(270, 630, n, endpoint=False), so frame 0 is the front camera and the last frame
    stops one step short of it. InputError for fewer than one frame."""
    if num_frames < 1:
        raise InputError(f"turntable needs at least one frame, got {num_frames}")
    return np.linspace(FRONT_AZIMUTH, FRONT_AZIMUTH + 360.0, int(num_frames), endpoint=False)
