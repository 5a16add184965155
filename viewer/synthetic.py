"""A synthetic Gaussian head (numpy only) for benchmarks and tests of the viewport.

Flat splats on an ellipsoid in the FaceLift frame (+Z up, face toward -Y): skin below a hair
line, darker hair above, two dark eyes on the face side. Deterministic for a given seed.
"""

from __future__ import annotations

import numpy as np

from engine.gaussians import Gaussians
from engine.sh import SH_C0

RADII = np.array([0.30, 0.36, 0.42])


def synthetic_head(n: int, seed: int = 0) -> Gaussians:
    """``n`` Gaussians covering the head surface about once (splat size shrinks with n)."""
    rng = np.random.default_rng(seed)
    d = rng.normal(size=(n, 3))
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    xyz = d * RADII
    colour = np.empty((n, 3))
    colour[:] = (0.86, 0.66, 0.55)  # skin
    hair = (xyz[:, 2] > 0.12) | ((xyz[:, 1] > -0.05) & (xyz[:, 2] > -0.2))
    colour[hair] = (0.30, 0.21, 0.14)
    for ex in (-0.11, 0.11):  # eyes on the -Y side
        eye = (np.abs(xyz[:, 0] - ex) < 0.04) & (np.abs(xyz[:, 2] - 0.05) < 0.025) & (xyz[:, 1] < 0)
        colour[eye] = (0.12, 0.10, 0.10)
    mouth = (np.abs(xyz[:, 0]) < 0.08) & (np.abs(xyz[:, 2] + 0.16) < 0.015) & (xyz[:, 1] < 0)
    colour[mouth] = (0.62, 0.30, 0.30)
    colour += rng.normal(scale=0.02, size=(n, 3))
    sh_dc = (colour - 0.5) / SH_C0
    # area per splat ~ surface / n; std so that 2 sigma discs touch
    surface = 4.0 * np.pi * np.mean(RADII) ** 2
    sigma = 0.6 * np.sqrt(surface / n)
    log_scales = np.empty((n, 3))
    log_scales[:, :2] = np.log(sigma)
    log_scales[:, 2] = np.log(sigma * 0.1)
    # rotate local z onto the outward normal
    z = np.array([0.0, 0.0, 1.0])
    axis = np.cross(z, d)
    s = np.linalg.norm(axis, axis=1)
    angle = np.arctan2(s, d[:, 2])
    axis /= np.maximum(s, 1e-9)[:, None]
    quats = np.concatenate([np.cos(angle / 2)[:, None], axis * np.sin(angle / 2)[:, None]], axis=1)
    return Gaussians(xyz, sh_dc, np.zeros((n, 0, 3)), log_scales, quats, np.full(n, 4.0))
