"""Flat Gaussians covering a triangle mesh's surface (the parts the front layer does not).

Each chosen triangle is cut into n x n similar sub-triangles, n = round(longest edge / spacing),
and one disc sits at each sub-triangle's centroid: an even covering with no duplicates along
shared edges. A disc's in-plane covariance is its sub-triangle's (the covariance of a uniform
distribution over it, (1/12) sum (v_i - c)(v_i - c)^T) times SIGMA_GAIN^2, so neighbouring
discs overlap enough to close the surface; the ratio of its two in-plane axes is capped at
MAX_ASPECT (slivers of marching cubes would otherwise make needles). Across the surface the
disc is thin (THICKNESS of its in-plane size), its normal the interpolated vertex normal.
"""

from __future__ import annotations

import numpy as np

from engine.geometry import matrix_to_quat

SIGMA_GAIN = 1.9
MAX_ASPECT = 2.5
THICKNESS = 0.12


def _lattice(n: int) -> np.ndarray:
    """(n*n, 3) barycentric centroids of the n*n sub-triangles of a triangle."""
    pts = []
    for i in range(n):
        for j in range(n - i):
            pts.append(((i + 1 / 3) / n, (j + 1 / 3) / n))
            if i + j <= n - 2:
                pts.append(((i + 2 / 3) / n, (j + 2 / 3) / n))
    ij = np.array(pts)
    return np.stack([1.0 - ij.sum(axis=1), ij[:, 0], ij[:, 1]], axis=1)


def sample_surface(
    vertices: np.ndarray, faces: np.ndarray, normals: np.ndarray, spacing: float, max_n: int = 8
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Discs on the triangles ``faces`` (F,3) of ``vertices`` (V,3) with vertex ``normals``.

    spacing: target distance between disc centres (world units). Returns xyz (N,3),
    scales (N,3) standard deviations, quats (N,4) (w,x,y,z) and normals (N,3).
    """
    p = vertices[faces]  # (F,3,3)
    edges = np.stack([p[:, 1] - p[:, 0], p[:, 2] - p[:, 1], p[:, 0] - p[:, 2]], axis=1)
    longest = np.linalg.norm(edges, axis=2).max(axis=1)
    counts = np.clip(np.round(longest / spacing), 1, max_n).astype(np.int64)
    out_xyz, out_cov, out_n = [], [], []
    for n in np.unique(counts):
        sel = np.nonzero(counts == n)[0]
        lat = _lattice(int(n))  # (m,3)
        tri = p[sel]  # (s,3,3)
        out_xyz.append(np.matmul(lat, tri).reshape(-1, 3))
        out_n.append(np.matmul(lat, normals[faces[sel]]).reshape(-1, 3))
        # Sub-triangles are the face shrunk by 1/n: covariance / n^2. Kept per face as its six
        # distinct entries (xx, yy, zz, xy, xz, yz), repeated for the face's discs.
        d = tri - tri.mean(axis=1, keepdims=True)
        pairs = ((0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2))
        cov = np.stack([(d[:, :, i] * d[:, :, j]).sum(axis=1) for i, j in pairs], axis=1)
        cov *= SIGMA_GAIN**2 / (12.0 * n * n)
        out_cov.append(np.repeat(cov, len(lat), axis=0))
    xyz = np.concatenate(out_xyz)
    nrm = np.concatenate(out_n)
    nrm /= np.maximum(np.linalg.norm(nrm, axis=1, keepdims=True), 1e-12)
    scales, quats = _flat_discs(np.concatenate(out_cov), nrm)
    return xyz, scales, quats, nrm


def _quadratic(cov6: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """(N,) u^T C v for symmetric C given as (N,6) entries (xx, yy, zz, xy, xz, yz)."""
    return np.asarray(
        cov6[:, 0] * u[:, 0] * v[:, 0]
        + cov6[:, 1] * u[:, 1] * v[:, 1]
        + cov6[:, 2] * u[:, 2] * v[:, 2]
        + cov6[:, 3] * (u[:, 0] * v[:, 1] + u[:, 1] * v[:, 0])
        + cov6[:, 4] * (u[:, 0] * v[:, 2] + u[:, 2] * v[:, 0])
        + cov6[:, 5] * (u[:, 1] * v[:, 2] + u[:, 2] * v[:, 1])
    )


def _flat_discs(cov6: np.ndarray, normal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(scales (N,3), quats (N,4)) of discs with the in-plane part of the covariances ``cov6``
    (N,6) (see _quadratic) around unit ``normal`` (N,3), aspect capped at MAX_ASPECT,
    thickness THICKNESS x the minor axis."""
    helper = np.where(np.abs(normal[:, :1]) < 0.9, np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0]))
    t1 = np.cross(normal, helper)
    t1 /= np.linalg.norm(t1, axis=1, keepdims=True)
    t2 = np.cross(normal, t1)
    c00 = _quadratic(cov6, t1, t1)
    c11 = _quadratic(cov6, t2, t2)
    c01 = _quadratic(cov6, t1, t2)
    mean, half = 0.5 * (c00 + c11), np.sqrt((0.5 * (c00 - c11)) ** 2 + c01**2)
    major = np.sqrt(np.maximum(mean + half, 1e-14))
    minor = np.maximum(np.sqrt(np.maximum(mean - half, 1e-14)), major / MAX_ASPECT)
    theta = 0.5 * np.arctan2(2.0 * c01, c00 - c11)
    cos, sin = np.cos(theta)[:, None], np.sin(theta)[:, None]
    a1 = cos * t1 + sin * t2
    a2 = np.cross(normal, a1)
    rot = np.stack([a1, a2, normal], axis=2)
    scales = np.stack([major, minor, THICKNESS * minor], axis=1)
    return scales, matrix_to_quat(rot)
