"""Binding a head's Gaussians to its fitted face mesh.

Gaussians near the face (within ``BIND_REACH`` face widths of the 468-vertex tessellation) are
bound to their closest triangle: barycentric coordinates of the closest point, and the rest of
the offset (along the normal, plus any tangential remainder outside the triangle) in the
triangle's frame (edge, in-plane perpendicular, normal), so the Gaussian moves and turns with the
triangle. Their weight falls from 1 on the surface to 0 at the reach, blending the face into the
rigid rest. Every Gaussian also has a head weight: 1 at and above the chin, 0 half a face height
below it, so the neck bends and the shoulders stay put.

A dark mouth interior (engine.animate.mouth) is added behind the lips before binding; its
opacity follows the mouth's opening, so a closed mouth draws exactly the static head.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from engine.animate.landmarks import CHIN, MESH_VERTICES, face_height, face_width, lip_gap, triangles
from engine.animate.mouth import mouth_interior
from engine.gaussians import Gaussians

BIND_INNER = 0.02  # face widths: full face weight up to this distance from the mesh
BIND_REACH = 0.12  # face widths: no face weight beyond this
NECK_BLEND = 0.5  # face heights below the chin over which the head's motion fades out
CANDIDATES = 8  # nearest triangles (by centroid) tested per Gaussian
CHUNK = 200_000


@dataclass(frozen=True)
class Rig:
    """A head bound to its face mesh (all in the FaceLift world frame of the static head).

    base: the Gaussians (the head's, then ``interior`` ones: the mouth interior), N in all.
    landmarks: (478,3) float64 the fitted landmarks; triangles (T,3) int over 0..467.
    bound: (M,) int indices of the face-bound Gaussians; tri (M,) their triangle; bary (M,3);
    local (M,3) the offset from the barycentric point in the triangle's frame; face_weight (M,)
    in [0,1]. head_weight: (N,) float32 in [0,1]. pivot: (3,) the head's turning point.
    interior: slice of ``base`` holding the mouth interior; interior_logits (K,) its full
    opacity logits. rest_gap / height / width: the static head's lip gap, face height and width.
    """

    base: Gaussians
    landmarks: np.ndarray
    triangles: np.ndarray
    bound: np.ndarray
    tri: np.ndarray
    bary: np.ndarray
    local: np.ndarray
    face_weight: np.ndarray
    head_weight: np.ndarray
    pivot: np.ndarray
    interior: slice
    interior_logits: np.ndarray
    rest_gap: float
    height: float
    width: float

    def __len__(self) -> int:
        return len(self.base)


def triangle_frames(verts: np.ndarray, tris: np.ndarray) -> np.ndarray:
    """(T,3,3) orthonormal frames, columns (edge 0->1, in-plane perpendicular, unit normal)."""
    v0, v1, v2 = verts[tris[:, 0]], verts[tris[:, 1]], verts[tris[:, 2]]
    e1 = v1 - v0
    n = np.cross(e1, v2 - v0)
    e1 = e1 / np.maximum(np.linalg.norm(e1, axis=1, keepdims=True), 1e-12)
    n = n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)
    e2 = np.cross(n, e1)
    return np.stack([e1, e2, n], axis=2)


def closest_on_triangles(p: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """(...,3) barycentric coordinates of the points of triangles (a,b,c) closest to p (...,3).

    Ericson's region tests, vectorised: each case overwrites the result where it applies.
    """
    ab, ac, ap = b - a, c - a, p - a
    d1, d2 = (ab * ap).sum(-1), (ac * ap).sum(-1)
    bp = p - b
    d3, d4 = (ab * bp).sum(-1), (ac * bp).sum(-1)
    cp = p - c
    d5, d6 = (ab * cp).sum(-1), (ac * cp).sum(-1)
    va = d3 * d6 - d5 * d4
    vb = d5 * d2 - d1 * d6
    vc = d1 * d4 - d3 * d2
    denom = np.where(np.abs(va + vb + vc) > 1e-18, va + vb + vc, 1e-18)
    v, w = vb / denom, vc / denom
    out = np.stack([1 - v - w, v, w], axis=-1)

    def put(mask: np.ndarray, bary: np.ndarray) -> None:
        out[mask] = bary[mask]

    eps = 1e-18
    # edges (checked before vertices so the vertex cases win where both hold)
    t = d1 / np.where(np.abs(d1 - d3) > eps, d1 - d3, eps)
    put((vc <= 0) & (d1 >= 0) & (d3 <= 0), np.stack([1 - t, t, 0 * t], -1))
    t = d2 / np.where(np.abs(d2 - d6) > eps, d2 - d6, eps)
    put((vb <= 0) & (d2 >= 0) & (d6 <= 0), np.stack([1 - t, 0 * t, t], -1))
    num, den = d4 - d3, (d4 - d3) + (d5 - d6)
    t = num / np.where(np.abs(den) > eps, den, eps)
    put((va <= 0) & (num >= 0) & (d5 - d6 >= 0), np.stack([0 * t, 1 - t, t], -1))
    one, zero = np.ones_like(d1), np.zeros_like(d1)
    put((d1 <= 0) & (d2 <= 0), np.stack([one, zero, zero], -1))
    put((d3 >= 0) & (d4 <= d3), np.stack([zero, one, zero], -1))
    put((d6 >= 0) & (d5 <= d6), np.stack([zero, zero, one], -1))
    return out


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def bind(gaussians: Gaussians, landmarks: np.ndarray) -> Rig:
    """Rig ``gaussians`` (FaceLift world) to its fitted ``landmarks`` (478,3) world."""
    lm = np.asarray(landmarks, dtype=np.float64)
    tris = triangles().astype(np.int64)
    width, height = face_width(lm), face_height(lm)
    interior = mouth_interior(lm, gaussians.sh_degree)
    n_head = len(gaussians)
    base = Gaussians.concatenate([gaussians, interior])
    xyz = base.xyz.astype(np.float64)

    verts = lm[:MESH_VERTICES]
    near = cKDTree(verts).query(xyz, k=1)[0] < (BIND_REACH + 0.1) * width
    idx = np.flatnonzero(near)
    tri_of, bary_of, dist_of = _closest(xyz[idx], verts, tris)
    frames = triangle_frames(verts, tris)
    foot = np.einsum("mk,mkd->md", bary_of, verts[tris[tri_of]])
    local = np.einsum("mdk,md->mk", frames[tri_of], xyz[idx] - foot)
    weight = 1.0 - _smoothstep((dist_of / width - BIND_INNER) / (BIND_REACH - BIND_INNER))
    keep = weight > 1e-4
    interior_idx = np.arange(n_head, len(base))
    # The mouth interior moves with the head only: it must not split with the lips.
    keep[np.isin(idx, interior_idx)] = False

    chin_z = float(lm[CHIN, 2])
    head_w = _smoothstep((xyz[:, 2] - (chin_z - NECK_BLEND * height)) / (NECK_BLEND * height))
    centre = lm[list(range(MESH_VERTICES))].mean(axis=0)
    pivot = np.array([centre[0], 0.0, chin_z])
    # landmarks are in the world (z up); lip_gap is a distance, so any frame does
    return Rig(
        base=base,
        landmarks=lm,
        triangles=tris,
        bound=idx[keep],
        tri=tri_of[keep],
        bary=bary_of[keep],
        local=local[keep],
        face_weight=weight[keep].astype(np.float32),
        head_weight=head_w.astype(np.float32),
        pivot=pivot,
        interior=slice(n_head, len(base)),
        interior_logits=interior.opacity_logits.copy(),
        rest_gap=lip_gap(lm),
        height=height,
        width=width,
    )


def _closest(points: np.ndarray, verts: np.ndarray, tris: np.ndarray) -> tuple[np.ndarray, ...]:
    """For points (M,3): the closest triangle (M,), its barycentric point (M,3), distance (M,)."""
    centroids = verts[tris].mean(axis=1)
    tree = cKDTree(centroids)
    k = min(CANDIDATES, len(tris))
    tri_out = np.empty(len(points), np.int64)
    bary_out = np.empty((len(points), 3))
    dist_out = np.empty(len(points))
    for s in range(0, len(points), CHUNK):
        p = points[s : s + CHUNK]
        _, cand = tree.query(p, k=k)
        cand = cand.reshape(len(p), k)
        t = tris[cand]  # (m,k,3)
        a, b, c = verts[t[..., 0]], verts[t[..., 1]], verts[t[..., 2]]
        pk = np.broadcast_to(p[:, None, :], a.shape)
        bary = closest_on_triangles(pk, a, b, c)
        foot = bary[..., 0:1] * a + bary[..., 1:2] * b + bary[..., 2:3] * c
        d = np.linalg.norm(pk - foot, axis=-1)
        best = d.argmin(axis=1)
        rows = np.arange(len(p))
        tri_out[s : s + len(p)] = cand[rows, best]
        bary_out[s : s + len(p)] = bary[rows, best]
        dist_out[s : s + len(p)] = d[rows, best]
    return tri_out, bary_out, dist_out
