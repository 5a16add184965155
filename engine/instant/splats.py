"""Per-pixel surface discs of a depth layer, and the collection of activated parameters.

A surface layer puts one Gaussian on each pixel's ray at the layer's depth. Its covariance is
k^2 (a a^T + b b^T) + e^2 n n^T with a, b the surface's steps to the next pixel in u and v: the
disc covers its pixel's patch of surface (flattened along the normal n), and projects to the
front camera as a round Gaussian of k pixels whatever the slope.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.gaussians import Gaussians
from engine.geometry import matrix_to_quat
from engine.sh import SH_C0

SURFACE_SIGMA = 0.4  # of the step to the next pixel
NORMAL_SIGMA = 0.08  # of the pixel footprint
MAX_STEP = 3.0  # a disc spans at most this many footprints (steeper parts: the mesh's discs)
MAX_ASPECT = 2.5  # of a disc's two in-plane axes (as the mesh's discs)
UPPER = 1.6  # colours above 1 are kept: 3DGS clamps only below 0, and the solve needs them


@dataclass
class Parts:
    """Activated parameters being collected: xyz (N,3), rgb (N,3) [0,1], scales (N,3)
    standard deviations, quats (N,4) unit (w,x,y,z), opacity (N,)."""

    xyz: list[np.ndarray]
    rgb: list[np.ndarray]
    scales: list[np.ndarray]
    quats: list[np.ndarray]
    opacity: list[np.ndarray]

    @classmethod
    def new(cls) -> Parts:
        return cls([], [], [], [], [])

    def add(
        self, xyz: np.ndarray, rgb: np.ndarray, scales: np.ndarray, quats: np.ndarray, opacity: np.ndarray
    ) -> None:
        self.xyz.append(xyz)
        self.rgb.append(rgb)
        self.scales.append(scales)
        self.quats.append(quats)
        self.opacity.append(opacity)

    def __len__(self) -> int:
        return sum(len(x) for x in self.xyz)


def _steps(points: np.ndarray, valid: np.ndarray, axis: int) -> np.ndarray:
    """Central (or one-sided at the edge) differences of (H,W,3) points along an axis,
    using only valid neighbours, at the valid pixels: (N,3) in row-major order (zero where a
    pixel has no valid neighbour along the axis)."""
    h, w = valid.shape
    iy, ix = np.nonzero(valid)
    here = iy * w + ix
    pos, length, step = (ix, w, 1) if axis == 1 else (iy, h, w)
    has_n, has_p = pos < length - 1, pos > 0
    nxt_i = np.where(has_n, here + step, here)
    prv_i = np.where(has_p, here - step, here)
    flat_valid = valid.ravel()
    ok_n = has_n & flat_valid[nxt_i]
    ok_p = has_p & flat_valid[prv_i]
    flat = points.reshape(-1, 3)
    pts, nxt, prv = (flat.take(i, axis=0) for i in (here, nxt_i, prv_i))
    both = (ok_n & ok_p)[:, None]
    only_n = (ok_n & ~ok_p)[:, None]
    only_p = (ok_p & ~ok_n)[:, None]
    d = np.where(both, 0.5 * (nxt - prv), 0.0)
    d = np.where(only_n, nxt - pts, d)
    d = np.where(only_p, pts - prv, d)
    return np.asarray(d)


def surface_layer(
    points: np.ndarray,
    valid: np.ndarray,
    footprint: np.ndarray,
    toward: np.ndarray,
    sigma: float = SURFACE_SIGMA,
    facing: np.ndarray | None = None,
    screen_axes: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flat Gaussians on the valid pixels of an (H,W,3) world-point grid.

    footprint (H,W): lateral pixel size in world units; toward (3,): the side the normals
    face; sigma: k, in steps. ``facing`` (H,W) bool marks pixels whose disc is turned to face
    the camera instead (a, b = the camera's right and down axes, ``screen_axes``, times the
    footprint): edge-on, hence invisible, from the side. The covariance
    k^2 (a a^T + b b^T) + e^2 n n^T is built from its eigenvectors in closed form (the
    in-plane 2x2 part), not with a general 3x3 solver.
    Returns (xyz (N,3), scales (N,3), quats (N,4)) in row-major order of the valid pixels.
    """
    a = _steps(points, valid, axis=1)
    b = _steps(points, valid, axis=0)
    fp = footprint[valid][:, None]
    # Isolated pixels (no neighbour along an axis): a pixel-sized patch facing the camera.
    a = np.where(np.linalg.norm(a, axis=1, keepdims=True) < 1e-9, fp * np.array([1.0, 0.0, 0.0]), a)
    b = np.where(np.linalg.norm(b, axis=1, keepdims=True) < 1e-9, fp * np.array([0.0, 0.0, -1.0]), b)
    # Cap very steep steps: the mesh's discs cover those parts instead of huge smeared discs.
    for v in (a, b):
        length = np.linalg.norm(v, axis=1, keepdims=True)
        v *= np.minimum(1.0, MAX_STEP * fp / np.maximum(length, 1e-12))
    if facing is not None and screen_axes is not None:
        turn = facing[valid][:, None]
        a = np.where(turn, fp * screen_axes[0], a)
        b = np.where(turn, fp * screen_axes[1], b)
    n = np.cross(a, b)
    n /= np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)
    n = np.where((n @ toward)[:, None] < 0, -n, n)
    t1 = a - (a * n).sum(axis=1, keepdims=True) * n
    t1 /= np.maximum(np.linalg.norm(t1, axis=1, keepdims=True), 1e-12)
    t2 = np.cross(n, t1)
    # In-plane coordinates of a and b, then the 2x2 covariance's eigen-decomposition.
    a1, a2 = (a * t1).sum(axis=1), (a * t2).sum(axis=1)
    b1, b2 = (b * t1).sum(axis=1), (b * t2).sum(axis=1)
    k2 = sigma**2
    c00, c11, c01 = k2 * (a1 * a1 + b1 * b1), k2 * (a2 * a2 + b2 * b2), k2 * (a1 * a2 + b1 * b2)
    mean, half = 0.5 * (c00 + c11), np.sqrt((0.5 * (c00 - c11)) ** 2 + c01**2)
    theta = 0.5 * np.arctan2(2.0 * c01, c00 - c11)
    cos, sin = np.cos(theta)[:, None], np.sin(theta)[:, None]
    axis1 = cos * t1 + sin * t2
    axis2 = -sin * t1 + cos * t2
    rot = np.stack([axis1, axis2, n], axis=2)  # columns; axis1 x axis2 = n, so det = +1
    major = np.sqrt(np.maximum(mean + half, 1e-14))
    # Steep surface (the band where the head turns away) would make needles: widen them.
    minor = np.maximum(np.sqrt(np.maximum(mean - half, 1e-14)), major / MAX_ASPECT)
    scales = np.stack([major, minor, NORMAL_SIGMA * fp[:, 0]], axis=1)
    return points[valid], scales, matrix_to_quat(rot)


def to_gaussians(parts: Parts) -> Gaussians:
    """Activated parameters -> stored 3DGS parameters (log scales, quats, logits, SH DC)."""
    if len(parts) == 0:
        return Gaussians.empty()
    xyz = np.concatenate(parts.xyz)
    rgb = np.clip(np.concatenate(parts.rgb), 0.0, UPPER)
    opacity = np.clip(np.concatenate(parts.opacity), 1e-4, 0.999)
    return Gaussians(
        xyz=xyz,
        sh_dc=(rgb - 0.5) / SH_C0,
        sh_rest=np.zeros((len(xyz), 0, 3)),
        log_scales=np.log(np.maximum(np.concatenate(parts.scales), 1e-7)),
        quats=np.concatenate(parts.quats),
        opacity_logits=np.log(opacity / (1.0 - opacity)),
    )
