"""Depth of the whole foreground as seen by FaceLift's front camera.

All depths are camera z (metres of the FaceLift world, along the front camera's axis), per
pixel of the 512x512 crop. The head's mid-plane is z = 2.7 (the world origin), as FaceLift's
framing places the head at the orbit's centre.

- Face: the 478-point mesh, its depth (mediapipe z, the head centre being z = 0, in x's pixel
  scale) turned into camera z, rasterised over FACEMESH_TESSELATION with barycentric weights.
- Head prior: an ellipsoid sized from the mesh (skull width ~1.16x the cheek span, top above
  the forehead, depth 1.2x the width) united with a silhouette "inflation" (a round profile
  rising from the matte's edge) for hair, ears, neck and shoulders.
- The mesh is shifted in depth so its outline meets the prior, then blended in over a ramp,
  so the face joins the head without a step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

# Landmark indices of the canonical mediapipe face mesh.
FOREHEAD, CHIN, CHEEK_R, CHEEK_L = 10, 152, 234, 454
FACE_OVAL = (
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
    152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
)  # fmt: skip

SKULL_WIDTH_PER_CHEEKS = 1.16
SKULL_DEPTH_PER_WIDTH = 1.2
HEAD_TOP_ABOVE_FOREHEAD = 0.28  # of the forehead-to-chin distance
BODY_DEPTH_PER_SKULL = 0.85  # half-thickness of shoulders/neck at most, relative to the skull's
BLEND_PX = 10.0


@dataclass(frozen=True)
class FrontCamera:
    """The FaceLift front camera: OpenCV pinhole looking along camera +z."""

    fx: float
    fy: float
    cx: float
    cy: float
    c2w: np.ndarray  # (4,4)
    size: int
    mid_depth: float  # camera z of the world origin

    def rays(self) -> np.ndarray:
        """(H,W,3) camera-space directions through pixel centres with z = 1."""
        n = self.size
        u = (np.arange(n, dtype=np.float64) + 0.5 - self.cx) / self.fx
        v = (np.arange(n, dtype=np.float64) + 0.5 - self.cy) / self.fy
        d = np.empty((n, n, 3))
        d[:, :, 0] = u[None, :]
        d[:, :, 1] = v[:, None]
        d[:, :, 2] = 1.0
        return d

    def to_world(self, cam_points: np.ndarray) -> np.ndarray:
        """(...,3) camera-space points -> world."""
        r, t = self.c2w[:3, :3], self.c2w[:3, 3]
        return np.asarray(cam_points @ r.T + t)

    @property
    def pixel_world(self) -> float:
        """Width of one pixel at the mid-plane, in world units."""
        return self.mid_depth / self.fx


def front_camera(size: int = 512) -> FrontCamera:
    from engine.cameras import facelift_cameras

    cams = facelift_cameras(size)
    c2w = cams.c2w[0].astype(np.float64)
    fx, fy, cx, cy = (float(v) for v in cams.fxfycxcy[0])
    mid = float(np.linalg.norm(c2w[:3, 3]))
    return FrontCamera(fx, fy, cx, cy, c2w, size, mid)


def rasterize_mesh(
    points_uv: np.ndarray, depth: np.ndarray, triangles: np.ndarray, size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Barycentric rasterisation of per-vertex depth over triangles, nearest wins.

    points_uv (V,2) pixel coords (pixel centres at i+0.5), depth (V,), triangles (T,3).
    Returns (depth (H,W) float64 with inf where uncovered, covered (H,W) bool).
    """
    zbuf = np.full((size, size), np.inf)
    p = points_uv[triangles]  # (T,3,2)
    x0 = np.maximum(np.floor(p[:, :, 0].min(axis=1) - 0.5), 0).astype(np.int64)
    x1 = np.minimum(np.ceil(p[:, :, 0].max(axis=1) - 0.5), size - 1).astype(np.int64)
    y0 = np.maximum(np.floor(p[:, :, 1].min(axis=1) - 0.5), 0).astype(np.int64)
    y1 = np.minimum(np.ceil(p[:, :, 1].max(axis=1) - 0.5), size - 1).astype(np.int64)
    (ax, ay), (bx, by), (cx, cy) = (p[:, k].T for k in range(3))
    det = (by - cy) * (ax - cx) + (cx - bx) * (ay - cy)
    ok = (x1 >= x0) & (y1 >= y0) & (np.abs(det) >= 1e-9)
    bw, bh = np.where(ok, x1 - x0 + 1, 0), np.where(ok, y1 - y0 + 1, 0)
    # Every pixel of every triangle's bounding box at once: triangle t owns bw*bh entries.
    t = np.repeat(np.arange(len(triangles)), bw * bh)
    if len(t) == 0:
        return zbuf, np.isfinite(zbuf)
    first = np.cumsum(bw * bh) - bw * bh
    k = np.arange(len(t)) - first[t]
    gx = x0[t] + k % bw[t]
    gy = y0[t] + k // bw[t]
    px, py = gx + 0.5, gy + 0.5
    w0 = ((by - cy)[t] * (px - cx[t]) + (cx - bx)[t] * (py - cy[t])) / det[t]
    w1 = ((cy - ay)[t] * (px - cx[t]) + (ax - cx)[t] * (py - cy[t])) / det[t]
    w2 = 1.0 - w0 - w1
    inside = (w0 >= -1e-6) & (w1 >= -1e-6) & (w2 >= -1e-6)
    d = depth[triangles]
    z = w0 * d[t, 0] + w1 * d[t, 1] + w2 * d[t, 2]
    np.minimum.at(zbuf, (gy[inside], gx[inside]), z[inside])
    return zbuf, np.isfinite(zbuf)


@dataclass(frozen=True)
class HeadShape:
    """The fitted head ellipsoid (camera space; centre on the mid-plane) in pixels/world."""

    centre_px: tuple[float, float]
    radii_px: tuple[float, float]  # half-width, half-height in pixels at the mid-plane
    depth_radius: float  # half-depth, world units


def fit_head(landmarks: np.ndarray, cam: FrontCamera) -> HeadShape:
    """Skull ellipsoid from the mesh: centred between the cheeks, from above the forehead
    down to the chin."""
    lm = landmarks
    cheeks = abs(lm[CHEEK_L, 0] - lm[CHEEK_R, 0])
    half_w = 0.5 * SKULL_WIDTH_PER_CHEEKS * cheeks
    face_len = lm[CHIN, 1] - lm[FOREHEAD, 1]
    top = lm[FOREHEAD, 1] - HEAD_TOP_ABOVE_FOREHEAD * face_len
    chin = lm[CHIN, 1]
    cx = 0.5 * (lm[CHEEK_L, 0] + lm[CHEEK_R, 0])
    cy = 0.5 * (top + chin)
    depth = SKULL_DEPTH_PER_WIDTH * half_w * cam.pixel_world
    return HeadShape((float(cx), float(cy)), (float(half_w), float(0.5 * (chin - top))), float(depth))


def fit_head_from_silhouette(mask: np.ndarray, cam: FrontCamera) -> HeadShape:
    """Without a mesh: a skull ellipsoid at the widest round part of the top of the matte."""
    dist = ndimage.distance_transform_edt(mask)
    rows = np.nonzero(mask.any(axis=1))[0]
    top = int(rows[0]) if len(rows) else 0
    band = dist[top : top + max(8, mask.shape[0] // 3)]
    r = float(band.max()) if band.size else 64.0
    iy, ix = np.unravel_index(int(np.argmax(band)), band.shape) if band.size else (0, 0)
    return HeadShape(
        (float(ix) + 0.5, float(top + iy) + 0.5), (r, 1.15 * r), SKULL_DEPTH_PER_WIDTH * r * cam.pixel_world
    )


def ellipsoid_half_depth(head: HeadShape, size: int) -> np.ndarray:
    """(H,W) half-thickness of the skull ellipsoid along each pixel's ray (0 outside)."""
    v, u = np.mgrid[0:size, 0:size] + 0.5
    q = ((u - head.centre_px[0]) / head.radii_px[0]) ** 2 + ((v - head.centre_px[1]) / head.radii_px[1]) ** 2
    return np.asarray(head.depth_radius * np.sqrt(np.clip(1.0 - q, 0.0, None)))


def inflation_half_depth(mask: np.ndarray, radius_px: float, depth: float) -> np.ndarray:
    """(H,W) half-thickness rising from the matte's edge with a circular profile of
    ``radius_px`` pixels and ``depth`` world units at most."""
    dist = ndimage.distance_transform_edt(mask)
    t = np.clip(dist / max(radius_px, 1.0), 0.0, 1.0)
    return np.asarray(depth * np.sqrt(1.0 - (1.0 - t) ** 2))


@dataclass(frozen=True)
class DepthLayers:
    """front/back camera-z per pixel (valid where ``mask``), ``face`` = mesh-covered pixels."""

    front: np.ndarray
    back: np.ndarray
    mask: np.ndarray
    face: np.ndarray
    head: HeadShape


def foreground_depth(
    mask: np.ndarray,
    cam: FrontCamera,
    landmarks: np.ndarray | None,
    triangles: np.ndarray,
) -> DepthLayers:
    """Front and back depth of the closed foreground solid.

    mask (H,W) bool; landmarks (478,3) crop pixels (x, y, mediapipe z in x's pixel scale)
    or None.
    """
    n = cam.size
    head = fit_head(landmarks, cam) if landmarks is not None else fit_head_from_silhouette(mask, cam)
    h_skull = ellipsoid_half_depth(head, n)
    h_body = inflation_half_depth(mask, head.radii_px[0], BODY_DEPTH_PER_SKULL * head.depth_radius)
    half = np.maximum(h_skull, h_body)
    mid = cam.mid_depth
    front = mid - half
    back = mid + half
    face = np.zeros_like(mask)
    if landmarks is not None:
        # mediapipe z: head centre 0, x's pixel scale -> camera z around the mid-plane.
        z = mid + landmarks[:468, 2] * cam.pixel_world
        uv = landmarks[:468, :2]
        oval = np.array(FACE_OVAL)
        prior_at = _sample(front, uv[oval])
        z = z + float(np.median(prior_at - z[oval]))  # meet the prior along the face outline
        mesh_z, covered = rasterize_mesh(uv, z, triangles, n)
        face = ndimage.binary_fill_holes(covered) & mask
        delta = np.where(covered, mesh_z - front, 0.0)
        # Holes (mouth, eyes) and the ramp's outside get the smoothly extended offset.
        wsum = ndimage.gaussian_filter(covered.astype(np.float64), 3.0)
        dext = ndimage.gaussian_filter(delta, 3.0) / np.maximum(wsum, 1e-6)
        delta = np.where(covered, delta, dext)
        ramp = np.clip(ndimage.distance_transform_edt(face) / BLEND_PX, 0.0, 1.0)
        ramp = ramp * ramp * (3.0 - 2.0 * ramp)
        front = np.where(face, front + ramp * delta, front)
    thin = 2.0 * cam.pixel_world
    back = np.maximum(back, front + thin)
    return DepthLayers(front, back, mask, face, head)


def _sample(img: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """Nearest-pixel lookup of (N,2) pixel coordinates, clamped to the image."""
    h, w = img.shape
    x = np.clip(np.floor(uv[:, 0]).astype(int), 0, w - 1)
    y = np.clip(np.floor(uv[:, 1]).astype(int), 0, h - 1)
    return np.asarray(img[y, x])
