"""The fitted head as one closed triangle mesh (FaceLift world frame), and its UV layout.

The template is implicit: the solid seen by the front camera between a front and a back depth
per pixel (engine.instant.geometry: skull ellipsoid from the face mesh, the 478 landmarks'
relief for the face, a round silhouette inflation for hair, ears, neck and shoulders). As a
field over the camera frustum,

    f(u, v, d) = h(u, v) - |d - m(u, v)|,   m = (front + back) / 2, h = (back - front) / 2,

positive inside; outside the matte h is continued negatively by the distance to the matte, so
the zero set closes along the silhouette. Marching cubes on a grid of pixel columns
(``STRIDE`` px) x depth levels (about as deep as a column is wide) extracts it; along the depth
axis f is linear, so the front surface lands exactly on the fitted depths. Vertices are then
taken along their camera rays into the world. The largest piece is kept: one watertight,
consistently oriented (outward) genus-0 surface for a filled matte.

UVs: a cylindrical layout around the head's vertical axis (u = azimuth / 2 pi, seam at the
back; v = height), per vertex. The exported mesh carries vertex colours (watertight, shared
vertices); the UVs are what hair synthesis and a later texture bake work in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage, sparse
from scipy.sparse.csgraph import connected_components

from engine.instant.geometry import DepthLayers, FrontCamera

STRIDE = 4  # pixels between the grid's columns at 512 px
INSET_PX = 4
PAD = 2  # empty cells around the grid, so the surface closes


@dataclass(frozen=True)
class HeadMesh:
    """A closed triangle mesh in the FaceLift world frame.

    vertices (V,3) float64 world; faces (F,3) int64, counter-clockwise seen from outside;
    normals (V,3) unit, outward; uv (V,2) in [0,1] (cylindrical, see the module docstring);
    colours (V,3) float in [0,1] (set by the appearance stage, grey until then).
    """

    vertices: np.ndarray
    faces: np.ndarray
    normals: np.ndarray
    uv: np.ndarray
    colours: np.ndarray

    def with_colours(self, colours: np.ndarray) -> HeadMesh:
        return HeadMesh(self.vertices, self.faces, self.normals, self.uv, np.clip(colours, 0.0, 1.0))

    def to_trimesh(self) -> object:
        """A ``trimesh.Trimesh`` with RGBA uint8 vertex colours (trimesh imported here)."""
        import trimesh

        rgba = np.concatenate(
            [np.round(self.colours * 255.0), np.full((len(self.vertices), 1), 255.0)], axis=1
        ).astype(np.uint8)
        return trimesh.Trimesh(
            vertices=self.vertices,
            faces=self.faces,
            vertex_normals=self.normals,
            vertex_colors=rgba,
            process=False,
        )


def _grid_fields(layers: DepthLayers, cam: FrontCamera, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """(mid, half) depth fields on the column grid (n, n), half < 0 outside the matte."""
    mid = 0.5 * (layers.front + layers.back)
    half = 0.5 * (layers.back - layers.front)
    # Outside the matte: mid continued from the nearest inside pixel, half negative by the
    # distance to the matte, so the zero set runs along the silhouette.
    # The outline is pulled INSET_PX inside the matte: the front layer's soft edge, not the
    # mesh discs' hard one, draws the silhouette in the input view.
    inner = ndimage.binary_erosion(layers.mask, iterations=INSET_PX)
    if not inner.any():
        inner = layers.mask
    dist_out, (iy, ix) = ndimage.distance_transform_edt(~inner, return_indices=True)
    grid = (slice(stride // 2, None, stride),) * 2  # only the columns' pixels are needed
    mid = mid[iy[grid], ix[grid]]
    half = np.where(
        inner[grid], np.maximum(half[grid], 0.5 * cam.pixel_world), -(dist_out[grid] + 0.5) * cam.pixel_world
    )
    return mid, half


def build_head_mesh(layers: DepthLayers, cam: FrontCamera, stride: int = STRIDE) -> HeadMesh:
    """Marching cubes of the front-camera solid; the largest piece, outward, in the world."""
    from skimage.measure import marching_cubes

    mid, half = _grid_fields(layers, cam, stride)
    inside = half > 0
    lo = float((mid - half)[inside].min()) - 2.0 * cam.pixel_world * stride
    hi = float((mid + half)[inside].max()) + 2.0 * cam.pixel_world * stride
    step = stride * cam.pixel_world * (lo + hi) / (2.0 * cam.mid_depth)  # ~ a column's width
    levels = lo + step * np.arange(int(np.ceil((hi - lo) / step)) + 1)
    field = half[None] - np.abs(levels[:, None, None] - mid[None])  # (K, n, n)
    field = np.pad(field.astype(np.float32), PAD, constant_values=-1.0)
    verts, faces, _normals, _values = marching_cubes(field, level=0.0, allow_degenerate=False)
    verts -= PAD
    faces = _largest_piece(faces, len(verts))
    used = np.unique(faces)
    remap = np.full(len(verts), -1, np.int64)
    remap[used] = np.arange(len(used))
    verts, faces = verts[used], remap[faces]
    # (level, row, column) -> pixel (u, v) and depth -> camera -> world.
    u = verts[:, 2] * stride + stride // 2 + 0.5
    v = verts[:, 1] * stride + stride // 2 + 0.5
    d = lo + verts[:, 0] * step
    cam_pts = np.stack([(u - cam.cx) / cam.fx * d, (v - cam.cy) / cam.fy * d, d], axis=1)
    world = cam.to_world(cam_pts)
    faces = _outward(world, faces)
    normals = vertex_normals(world, faces)
    return HeadMesh(world, faces, normals, cylinder_uv(world), np.full((len(world), 3), 0.5))


def _largest_piece(faces: np.ndarray, n_verts: int) -> np.ndarray:
    """The faces of the largest edge-connected piece."""
    a = np.concatenate([faces[:, 0], faces[:, 1], faces[:, 2]])
    b = np.concatenate([faces[:, 1], faces[:, 2], faces[:, 0]])
    graph = sparse.coo_matrix((np.ones(len(a), np.int8), (a, b)), shape=(n_verts, n_verts))
    _n, labels = connected_components(graph, directed=False)
    counts = np.bincount(labels[faces[:, 0]])
    return np.asarray(faces[labels[faces[:, 0]] == int(np.argmax(counts))], np.int64)


def _outward(verts: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Faces flipped if needed so the enclosed volume is positive (normals point out)."""
    p0, p1, p2 = verts[faces[:, 0]], verts[faces[:, 1]], verts[faces[:, 2]]
    volume = float(np.einsum("ij,ij->i", p0, np.cross(p1, p2)).sum()) / 6.0
    return faces if volume > 0 else faces[:, ::-1].copy()


def vertex_normals(verts: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """(V,3) unit area-weighted vertex normals."""
    fn = np.cross(verts[faces[:, 1]] - verts[faces[:, 0]], verts[faces[:, 2]] - verts[faces[:, 0]])
    corner = faces.T.ravel()  # each face's normal goes to its three corners
    n = np.stack(
        [np.bincount(corner, weights=np.tile(fn[:, j], 3), minlength=len(verts)) for j in range(3)], axis=1
    )
    return np.asarray(n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12))


def cylinder_uv(verts: np.ndarray) -> np.ndarray:
    """(V,2) in [0,1]: u = azimuth around +Z from the face direction (-Y) / 2 pi (seam at the
    back), v = height over the mesh's z range."""
    az = np.arctan2(verts[:, 0], -verts[:, 1])  # 0 at the face, +-pi at the back
    u = (az + np.pi) / (2.0 * np.pi)
    z = verts[:, 2]
    v = (z - z.min()) / max(float(np.ptp(z)), 1e-9)
    return np.stack([u, v], axis=1)
