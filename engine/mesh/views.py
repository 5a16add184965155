"""The fusion views of a head (engine/mesh/fuse.py): the orbit cameras, and the head rendered
from them (colour, alpha, depth) by engine.render."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.api import CancelToken, ProgressCallback, ProgressEvent, no_progress
from engine.cameras import CameraSet, facelift_cameras, orbit_camera
from engine.gaussians import Gaussians

RINGS: tuple[tuple[float, int], ...] = ((-20.0, 6), (20.0, 8), (45.0, 6), (75.0, 3))
"""(elevation in degrees, number of cameras) of the fusion orbit rings, besides the six
FaceLift input cameras (elevation 0): 29 views."""
SOLID_ALPHA = 0.5
TRUNCATION_VOXELS = 3.0
"""The fusion's truncation distance, in voxels; colour sampling uses it as its depth tolerance."""
STAGE = "mesh"


@dataclass(frozen=True)
class Views:
    """V rendered fusion views (OpenCV cameras): c2w (V,4,4) float64, fxfycxcy (V,4) float64,
    size (px, square); rgb (V,S,S,3) float32 in [0,1] un-premultiplied (the head's own colour),
    alpha (V,S,S) float32 in [0,1], depth (V,S,S) float32 (0 where alpha is 0)."""

    c2w: np.ndarray
    fxfycxcy: np.ndarray
    size: int
    rgb: np.ndarray
    alpha: np.ndarray
    depth: np.ndarray

    def project(self, view: int, points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Pixel row, column (int, clipped), depth z (M,) and in-image mask of points (M,3)."""
        w2c = np.linalg.inv(self.c2w[view])
        cam = points @ w2c[:3, :3].T.astype(np.float32) + w2c[:3, 3].astype(np.float32)
        z = cam[:, 2]
        fx, fy, cx, cy = self.fxfycxcy[view]
        safe = np.where(z > 1e-6, z, 1.0)
        u = fx * cam[:, 0] / safe + cx
        v = fy * cam[:, 1] / safe + cy
        inside = (z > 1e-6) & (u >= 0) & (u < self.size) & (v >= 0) & (v < self.size)
        col = np.clip(u.astype(np.int64), 0, self.size - 1)
        row = np.clip(v.astype(np.int64), 0, self.size - 1)
        return row, col, z, inside


def fusion_cameras(size: int) -> CameraSet:
    """The six FaceLift input cameras, then the orbit rings of :data:`RINGS` (each ring's
    azimuths offset by half a step from the last)."""
    cams = [facelift_cameras(size)]
    for ring, (elevation, count) in enumerate(RINGS):
        for i in range(count):
            azimuth = 270.0 + 360.0 * (i + 0.5 * (ring % 2)) / count
            cams.append(orbit_camera(azimuth, elevation, size=size))
    return CameraSet(
        np.concatenate([c.c2w for c in cams]), np.concatenate([c.fxfycxcy for c in cams]), size, size
    )


def render_views(
    g: Gaussians,
    size: int,
    on_progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> Views:
    """Render ``g`` from :func:`fusion_cameras` (black background, so colour = rgb / alpha)."""
    from engine.render import prepare, render

    cams = fusion_cameras(size)
    prepared, backend = prepare(g)
    rgb = np.zeros((len(cams), size, size, 3), np.float32)
    alpha = np.zeros((len(cams), size, size), np.float32)
    depth = np.zeros((len(cams), size, size), np.float32)
    for i in range(len(cams)):
        on_progress(ProgressEvent(STAGE, i, len(cams) + 3, f"rendering fusion view {i + 1} of {len(cams)}"))
        if cancel is not None:
            cancel.raise_if_cancelled()
        res = render(prepared, cams.c2w[i], cams.fxfycxcy[i], size, size, (0.0, 0.0, 0.0), backend)
        alpha[i] = np.clip(res.alpha, 0.0, 1.0)
        rgb[i] = np.clip(res.rgb / np.maximum(res.alpha, 1e-6)[..., None], 0.0, 1.0)
        depth[i] = res.depth
    return Views(cams.c2w.astype(np.float64), cams.fxfycxcy.astype(np.float64), size, rgb, alpha, depth)
