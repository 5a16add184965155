"""Gaussian sets for the export tests and bench/export.py.

``random_set``: uniform random parameters in the ranges the formats hold. ``facelift_style_head``: FaceLift-style heads: pixel-aligned Gaussians, one per
pixel of each of the six FaceLift input cameras, as GS-LRM produces them (6 x 512^2 = 1.57 M).

The head is analytic (no model needed): a union of ellipsoids -- cranium, face, nose, ears,
neck -- ray-cast exactly from every pixel. A pixel whose ray hits the head gets an opaque,
camera-facing disc at the hit point, about its pixel's footprint wide, coloured by a
procedural skin / hair / eyes / lips texture with fine detail (so compression errors show in
renders); a pixel whose ray misses gets a faint white Gaussian at the origin's depth (GS-LRM's
background Gaussians, which FaceLift's opacity filter removes). World frame: FaceLift's.
"""

from __future__ import annotations

import numpy as np

from engine.cameras import facelift_cameras
from engine.gaussians import SH_C0, Gaussians
from engine.geometry import matrix_to_quat

# (centre, semi-axes) of the parts, FaceLift frame: +Z up, face toward -Y
PARTS: tuple[tuple[tuple[float, float, float], tuple[float, float, float]], ...] = (
    ((0.0, 0.05, 0.18), (0.50, 0.56, 0.62)),  # cranium
    ((0.0, -0.18, -0.12), (0.40, 0.42, 0.50)),  # face and jaw
    ((0.0, -0.58, -0.02), (0.07, 0.12, 0.16)),  # nose
    ((-0.50, 0.05, 0.05), (0.06, 0.12, 0.17)),  # ears
    ((0.50, 0.05, 0.05), (0.06, 0.12, 0.17)),
    ((0.0, 0.05, -0.62), (0.24, 0.26, 0.45)),  # neck
)
NECK_CUT = -0.88
"""Nothing below this z (the crop box's floor is -1)."""


def _texture(p: np.ndarray) -> np.ndarray:
    """(M,3) RGB in [0,1] at surface points p (M,3)."""
    x, y, z = p[:, 0], p[:, 1], p[:, 2]
    skin = np.array([0.86, 0.66, 0.55])
    detail = 0.06 * np.sin(41 * x) * np.sin(37 * z) + 0.04 * np.sin(97 * y + 13 * x) * np.cos(83 * z)
    rgb = skin + detail[:, None] * np.array([1.0, 0.8, 0.7])
    hair = (z > 0.38 - 0.25 * np.clip(y, 0, None)) | (y > 0.25) & (z > -0.1)
    rgb[hair] = np.array([0.22, 0.15, 0.10]) + 0.08 * np.sin(140 * x[hair] + 60 * z[hair])[:, None]
    for ex in (-0.17, 0.17):
        eye = (np.hypot(x - ex, z - 0.12) < 0.065) & (y < -0.3)
        rgb[eye] = np.array([0.95, 0.95, 0.93])
        iris = (np.hypot(x - ex, z - 0.12) < 0.03) & (y < -0.3)
        rgb[iris] = np.array([0.25, 0.35, 0.55])
    lips = (np.abs(x) < 0.14) & (np.abs(z + 0.27) < 0.035) & (y < -0.3)
    rgb[lips] = np.array([0.70, 0.30, 0.32])
    return np.clip(rgb, 0.0, 1.0)


def cast(origin: np.ndarray, dirs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest hit distance t (M,) (inf on a miss) and outward normal (M,3) of rays
    origin (3,) + t * dirs (M,3) against the head."""
    best = np.full(len(dirs), np.inf)
    normal = np.zeros_like(dirs)
    for centre, axes in PARTS:
        a = np.asarray(axes)
        o = (origin - np.asarray(centre)) / a
        d = dirs / a
        qa = (d * d).sum(1)
        qb = 2 * (d @ o)
        qc = o @ o - 1
        disc = qb * qb - 4 * qa * qc
        hit = disc > 0
        root = np.sqrt(np.where(hit, disc, 0))
        for t in ((-qb - root) / (2 * qa), (-qb + root) / (2 * qa)):
            p = origin + t[:, None] * dirs
            ok = hit & (t > 0) & (t < best) & (p[:, 2] > NECK_CUT)
            best = np.where(ok, t, best)
            n = (p - np.asarray(centre)) / (a * a)
            normal = np.where(ok[:, None], n, normal)
    normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-12)
    return best, normal


def facelift_style_head(size: int = 64, background: bool = True) -> Gaussians:
    """6 * size^2 pixel-aligned Gaussians (fewer with ``background=False``: the head's only)."""
    cams = facelift_cameras(size)
    parts = []
    for c2w, (fx, fy, cx, cy) in zip(cams.c2w.astype(np.float64), cams.fxfycxcy.astype(np.float64)):
        v, u = np.mgrid[0:size, 0:size] + 0.5
        rays_cam = np.stack([(u - cx) / fx, (v - cy) / fy, np.ones_like(u)], -1).reshape(-1, 3)
        dirs = rays_cam @ c2w[:3, :3].T
        dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
        origin = c2w[:3, 3]
        t, _normal = cast(origin, dirs)
        hit = np.isfinite(t)
        depth_far = np.linalg.norm(origin)
        xyz = origin + np.where(hit, t, depth_far)[:, None] * dirs
        footprint = np.where(hit, t, depth_far) / fx
        rgb = np.ones((len(dirs), 3))
        rgb[hit] = _texture(xyz[hit])
        scales = np.stack([0.7 * footprint, 0.7 * footprint, 0.1 * footprint], 1)
        opacity = np.where(hit, 0.97, 0.004)
        keep = hit | background
        parts.append(
            Gaussians(
                xyz=xyz[keep],
                sh_dc=(rgb[keep] - 0.5) / SH_C0,
                sh_rest=np.zeros((int(keep.sum()), 0, 3)),
                log_scales=np.log(scales[keep]),
                quats=np.repeat(matrix_to_quat(c2w[:3, :3])[None], int(keep.sum()), 0),
                opacity_logits=np.log(opacity[keep] / (1 - opacity[keep])),
            )
        )
    return Gaussians.concatenate(parts)


def normal_set(n: int, seed: int = 0) -> Gaussians:
    """n Gaussians with every parameter drawn from a normal distribution (log-scales around -3)."""
    rng = np.random.default_rng(seed)
    return Gaussians(
        rng.normal(size=(n, 3)),
        rng.normal(size=(n, 3)),
        np.zeros((n, 0, 3)),
        rng.normal(-3, 0.5, size=(n, 3)),
        rng.normal(size=(n, 4)),
        rng.normal(size=n),
    )


def random_set(n: int = 3000, degree: int = 0, seed: int = 0) -> Gaussians:
    rng = np.random.default_rng(seed)
    k = (degree + 1) ** 2 - 1
    colours = rng.uniform(0.02, 0.98, (n, 3))
    return Gaussians(
        xyz=rng.uniform(-1.2, 1.2, (n, 3)),
        sh_dc=(colours - 0.5) / SH_C0,
        sh_rest=rng.uniform(-0.9, 0.9, (n, k, 3)),
        log_scales=rng.uniform(-8, -1, (n, 3)),
        quats=rng.normal(size=(n, 4)),
        opacity_logits=rng.normal(0, 2, n),
    )


def angle_deg(a: Gaussians, b: Gaussians) -> np.ndarray:
    dot = np.abs((a.rotations.astype(np.float64) * b.rotations).sum(axis=1))
    return np.degrees(2 * np.arccos(np.clip(dot, 0, 1)))


def mesh_silhouette(
    vertices: np.ndarray, faces: np.ndarray, c2w: np.ndarray, fxfycxcy: np.ndarray, size: int
) -> np.ndarray:
    """(size,size) bool: the pixels a triangle mesh covers from an OpenCV camera (PIL fill)."""
    from PIL import Image, ImageDraw

    w2c = np.linalg.inv(np.asarray(c2w, np.float64))
    cam = vertices @ w2c[:3, :3].T + w2c[:3, 3]
    fx, fy, cx, cy = np.asarray(fxfycxcy, np.float64)
    uv = np.stack([fx * cam[:, 0] / cam[:, 2] + cx, fy * cam[:, 1] / cam[:, 2] + cy], axis=1)
    image = Image.new("1", (size, size), 0)
    draw = ImageDraw.Draw(image)
    for tri in uv[faces]:
        draw.polygon([tuple(p) for p in tri], fill=1)
    return np.asarray(image, bool)


def surface_colour(points: np.ndarray) -> np.ndarray:
    """(M,3) the analytic head's texture at points (M,3) on or near its surface."""
    return _texture(np.asarray(points, np.float64))
