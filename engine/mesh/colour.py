"""Colours of a fused head mesh, taken from the rendered fusion views (engine/mesh/fuse.py).

A surface point's colour is the average of the views' pixels that see it -- the point
projects onto the head (alpha >= 0.5) within the fusion's truncation distance of the rendered
depth -- weighted by cos^2 of the angle between its normal and the direction to the camera,
so frontal looks count most. Points no view sees (deep folds) take the colour of the nearest
point that is seen.

``vertex_colours`` does this per vertex. ``bake_texture`` unwraps the mesh with xatlas, finds
the surface point under every texel (rasterising the triangles in UV space, vectorised over
triangle bounding boxes), colours them the same way, and bleeds the colours of charts' edges a
few texels outward so mip-mapping and filtering do not pull in the empty background.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from engine.mesh.views import SOLID_ALPHA, TRUNCATION_VOXELS, Views

if TYPE_CHECKING:
    import trimesh

_PAIR_BUDGET = 2_000_000  # (triangle, texel) candidates per rasterisation batch


def sample_views(points: np.ndarray, normals: np.ndarray, views: Views, tolerance: float) -> np.ndarray:
    """(M,3) float32 colours in [0,1] at surface points (M,3) with unit normals (M,3)."""
    pts = points.astype(np.float32)
    total = np.zeros((len(pts), 3), np.float64)
    weight = np.zeros(len(pts), np.float64)
    for view in range(len(views.c2w)):
        row, col, z, inside = views.project(view, pts)
        seen = (
            inside
            & (views.alpha[view][row, col] >= SOLID_ALPHA)
            & (np.abs(views.depth[view][row, col] - z) < tolerance)
        )
        to_cam = views.c2w[view][:3, 3] - points
        to_cam /= np.maximum(np.linalg.norm(to_cam, axis=1, keepdims=True), 1e-12)
        w = np.clip((normals * to_cam).sum(axis=1), 0.0, 1.0) ** 2 * seen
        total += w[:, None] * views.rgb[view][row, col]
        weight += w
    seen_any = weight > 1e-6
    colours = total / np.maximum(weight, 1e-6)[:, None]
    if seen_any.any() and not seen_any.all():
        from scipy.spatial import cKDTree

        _, nearest = cKDTree(points[seen_any]).query(points[~seen_any])
        colours[~seen_any] = colours[seen_any][nearest]
    elif not seen_any.any():
        colours[:] = 0.5
    return np.clip(colours, 0.0, 1.0).astype(np.float32)


def vertex_colours(mesh: trimesh.Trimesh, views: Views, voxel: float) -> np.ndarray:
    """(V,4) uint8 RGBA vertex colours of ``mesh`` from ``views``."""
    rgb = sample_views(
        np.asarray(mesh.vertices), np.asarray(mesh.vertex_normals), views, TRUNCATION_VOXELS * voxel
    )
    out = np.full((len(rgb), 4), 255, np.uint8)
    out[:, :3] = np.round(rgb * 255.0).astype(np.uint8)
    return out


def _texel_hits(uv_px: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For triangles in texel coordinates (F,3,2): (face, row, col, barycentrics (K,3)) of every
    texel centre inside a triangle."""
    lo = np.floor(uv_px.min(axis=1) - 0.5).astype(np.int64)
    hi = np.ceil(uv_px.max(axis=1) - 0.5).astype(np.int64)
    w = hi[:, 0] - lo[:, 0] + 1
    h = hi[:, 1] - lo[:, 1] + 1
    area = w * h
    out_f, out_r, out_c, out_b = [], [], [], []
    start = 0
    while start < len(uv_px):
        stop = start + max(1, int(np.searchsorted(np.cumsum(area[start:]), _PAIR_BUDGET)))
        f = np.repeat(np.arange(start, stop), area[start:stop])
        first = np.repeat(np.cumsum(area[start:stop]) - area[start:stop], area[start:stop])
        local = np.arange(len(f)) - first
        col = lo[f, 0] + local % w[f]
        row = lo[f, 1] + local // w[f]
        p = np.stack([col + 0.5, row + 0.5], axis=1)
        a, b, c = uv_px[f, 0], uv_px[f, 1], uv_px[f, 2]
        v0, v1, v2 = b - a, c - a, p - a
        den = v0[:, 0] * v1[:, 1] - v1[:, 0] * v0[:, 1]
        ok = np.abs(den) > 1e-12
        den = np.where(ok, den, 1.0)
        bb = (v2[:, 0] * v1[:, 1] - v1[:, 0] * v2[:, 1]) / den
        bc = (v0[:, 0] * v2[:, 1] - v2[:, 0] * v0[:, 1]) / den
        ba = 1.0 - bb - bc
        inside = ok & (ba >= -1e-6) & (bb >= -1e-6) & (bc >= -1e-6)
        out_f.append(f[inside])
        out_r.append(row[inside])
        out_c.append(col[inside])
        out_b.append(np.stack([ba, bb, bc], axis=1)[inside])
        start = stop
    return np.concatenate(out_f), np.concatenate(out_r), np.concatenate(out_c), np.concatenate(out_b)


def bake_texture(mesh: trimesh.Trimesh, views: Views, size: int, voxel: float) -> trimesh.Trimesh:
    """A copy of ``mesh`` unwrapped by xatlas with a size x size texture baked from ``views``
    (TextureVisuals: uv (V',2) with v up, as trimesh and OBJ use; the image's row 0 is v = 1)."""
    import trimesh
    import xatlas
    from PIL import Image
    from scipy import ndimage

    vmap, faces, uv = xatlas.parametrize(
        np.asarray(mesh.vertices, np.float32), np.asarray(mesh.faces, np.uint32)
    )
    verts = np.asarray(mesh.vertices)[vmap]
    faces = faces.astype(np.int64)
    normals = np.asarray(mesh.vertex_normals)[vmap]
    uv_px = np.stack([uv[:, 0] * size, (1.0 - uv[:, 1]) * size], axis=1)[faces]  # (F,3,2)
    face, row, col, bary = _texel_hits(uv_px)
    keep = (row >= 0) & (row < size) & (col >= 0) & (col < size)
    face, row, col, bary = face[keep], row[keep], col[keep], bary[keep]
    points = np.einsum("kj,kjd->kd", bary, verts[faces[face]])
    nrm = np.einsum("kj,kjd->kd", bary, normals[faces[face]])
    nrm /= np.maximum(np.linalg.norm(nrm, axis=1, keepdims=True), 1e-12)
    image = np.zeros((size, size, 3), np.float32)
    filled = np.zeros((size, size), bool)
    image[row, col] = sample_views(points, nrm, views, TRUNCATION_VOXELS * voxel)
    filled[row, col] = True
    if filled.any():  # bleed chart colours into the gutters
        _, (ri, ci) = ndimage.distance_transform_edt(~filled, return_indices=True)
        image = image[ri, ci]
    textured = trimesh.Trimesh(verts, faces, process=False)
    picture = Image.fromarray(np.round(image * 255).astype(np.uint8))
    textured.visual = trimesh.visual.TextureVisuals(uv=uv, image=picture)
    return textured
