"""The dark mouth interior: a curved sheet of dark Gaussians behind the lips.

When the jaw opens, the lips' Gaussians part and the sheet shows between them, instead of the
inside of the head's shell. It spans the mouth's width (plus a margin) from the nose's base to the
chin and follows the face's relief ``DEPTH`` face widths behind it, so the skin in front hides it
wherever the face is closed. Its opacity is set per frame from the lips' opening (deform.py).
"""

from __future__ import annotations

import numpy as np
from scipy.interpolate import griddata

from engine.animate.landmarks import CHIN, MESH_VERTICES, MOUTH_CORNERS, NOSE_BOTTOM, face_width
from engine.gaussians import Gaussians
from engine.sh import SH_C0

COLOUR = (0.11, 0.035, 0.035)  # a dark red-brown, as an open mouth's shadowed inside
DEPTH = 0.08  # face widths behind the surface
MARGIN = 0.2  # of the mouth's width, on each side
STEPS = 48  # Gaussians across the mouth's width
OPACITY = 0.995


def mouth_interior(landmarks: np.ndarray, sh_degree: int = 0) -> Gaussians:
    """Gaussians of the mouth interior for a head with world ``landmarks`` (478,3) (FaceLift
    frame: +Z up, face toward -Y). Full opacity (logit of 0.995); SH degree ``sh_degree``."""
    lm = np.asarray(landmarks, dtype=np.float64)
    width = face_width(lm)
    left, right = sorted(float(lm[i, 0]) for i in MOUTH_CORNERS)
    span = right - left
    x0, x1 = left - MARGIN * span, right + MARGIN * span
    z_top, z_bottom = float(lm[NOSE_BOTTOM, 2]), float(lm[CHIN, 2]) + 0.1 * span
    step = (x1 - x0) / STEPS
    xs = np.arange(x0, x1 + 0.5 * step, step)
    zs = np.arange(z_bottom, z_top + 0.5 * step, step)
    gx, gz = np.meshgrid(xs, zs)
    verts = lm[:MESH_VERTICES]
    surface = griddata(verts[:, [0, 2]], verts[:, 1], (gx, gz), method="linear")
    nearest = griddata(verts[:, [0, 2]], verts[:, 1], (gx, gz), method="nearest")
    y = np.where(np.isfinite(surface), surface, nearest) + DEPTH * width
    xyz = np.stack([gx.ravel(), y.ravel(), gz.ravel()], axis=1)
    n = len(xyz)
    k = (sh_degree + 1) ** 2 - 1
    colour = (np.asarray(COLOUR) - 0.5) / SH_C0
    scales = np.log(np.array([0.8 * step, 0.2 * step, 0.8 * step]))
    return Gaussians(
        xyz=xyz,
        sh_dc=np.tile(colour, (n, 1)),
        sh_rest=np.zeros((n, k, 3)),
        log_scales=np.tile(scales, (n, 1)),
        quats=np.tile([1.0, 0.0, 0.0, 0.0], (n, 1)),
        opacity_logits=np.full(n, np.log(OPACITY / (1.0 - OPACITY))),
    )
