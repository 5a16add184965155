"""Least-squares similarity transforms between point sets (Umeyama) and rotation helpers."""

from __future__ import annotations

import numpy as np


def fit_similarity(src: np.ndarray, dst: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """(s, R, t) minimising sum |s R src_i + t - dst_i|^2 over proper rotations R.

    src, dst: (K,3) corresponding points, K >= 3 not collinear. Returns s > 0, R (3,3), t (3,).
    """
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    mu_s, mu_d = src.mean(axis=0), dst.mean(axis=0)
    a, b = src - mu_s, dst - mu_d
    cov = b.T @ a / len(src)
    u, sig, vt = np.linalg.svd(cov)
    d = np.ones(3)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        d[2] = -1.0
    rot = u @ np.diag(d) @ vt
    var = float((a * a).sum() / len(src))
    s = float((sig * d).sum() / max(var, 1e-12))
    t = mu_d - s * rot @ mu_s
    return s, rot, t


def rotation_vector(rot: np.ndarray) -> np.ndarray:
    """(3,) axis * angle (radians) of a (3,3) rotation matrix."""
    from scipy.spatial.transform import Rotation

    return np.asarray(Rotation.from_matrix(rot).as_rotvec(), dtype=np.float64)


def rotation_matrix(rotvec: np.ndarray) -> np.ndarray:
    """(3,3) rotation of an axis * angle vector (3,)."""
    from scipy.spatial.transform import Rotation

    return np.asarray(Rotation.from_rotvec(np.asarray(rotvec, dtype=np.float64)).as_matrix())


def yaw_pitch_roll_deg(rot_world: np.ndarray) -> tuple[float, float, float]:
    """Yaw (about world +Z, up), pitch (about +X) and roll (about +Y, the view axis) in degrees
    of a rotation in the FaceLift world frame (intrinsic Z-X-Y order)."""
    from scipy.spatial.transform import Rotation

    z, x, y = Rotation.from_matrix(rot_world).as_euler("ZXY", degrees=True)
    return float(z), float(x), float(y)
