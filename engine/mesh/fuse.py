"""A triangle mesh of any Gaussian head, by fusing depth rendered from orbit cameras.

1. **Views.** The head is rendered (engine.render, the same rasteriser as everything else)
   from rings of orbit cameras around it -- from 20 degrees below the equator (under the chin)
   to nearly overhead, never from further below, so no view looks up into the neck's opening.
   Each view gives colour, alpha and the alpha-normalised depth.
2. **Fusion** on a voxel grid over the head's box (``resolution`` voxels along its longest
   side). *Carving*: each view's silhouette (alpha >= 0.5, its interior holes filled so a
   pixel-sized gap between splats cannot cut a tunnel) bounds the head: a voxel that projects
   outside any view's silhouette is outside (the visual hull). *Signed distance* inside the
   hull: each view that sees the head at a voxel's pixel votes clip((depth - z) / T, -1, 1),
   T = 3 voxels -- in front of the seen surface outside, behind it inside, and hidden further
   behind it -1 (the head is one solid, so what a view cannot see lies inside it). The votes
   are averaged; a voxel no view votes on is inside. The neck's cut closes where the renders'
   silhouettes end.
3. **Surface.** Only the largest inside region is kept and cavities inside it are filled
   (scipy.ndimage on the voxels); the field is smoothed by a Gaussian of one voxel, which
   removes the voxel-sized tunnels and handles a raw vote leaves (without it a test head's
   surface had genus 6, with it genus 0); scikit-image's marching cubes (Lewiner) extracts the
   zero level set; the largest connected piece of the triangle mesh is kept.
4. **Budget.** fast-simplification (quadric error decimation) reduces it to ``triangles``.
   Quadric decimation does not promise to keep a surface closed; if the result is not one
   watertight piece the surface is extracted again from a smoother field (1.5, then 2 voxels).
5. **Colour.** engine/mesh/colour.py: vertex colours from the views that see each vertex, and
   optionally a baked UV texture (xatlas).

Why scikit-image and not open3d: the fusion needs only a dense grid (a head's box at 224 voxels
is ~5 M floats, 20 MB) and numpy; scikit-image's marching cubes is the one compiled piece, and
scikit-image (already the project's dev dependency, ~60 MB installed) is a fraction of open3d,
whose wheel alone is several hundred MB and pulls in a web-dashboard stack. Measured on the
bench head: the fusion takes about as long as rendering the views, which dominates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from engine.api import CancelToken, ProgressCallback, ProgressEvent, no_progress
from engine.errors import InputError
from engine.gaussians import Gaussians
from engine.mesh.views import SOLID_ALPHA, STAGE, TRUNCATION_VOXELS, Views, render_views

if TYPE_CHECKING:
    import trimesh


@dataclass(frozen=True)
class MeshOptions:
    """How a head's mesh is made.

    triangles:    triangle budget after simplification (default ~100 k).
    resolution:   fusion voxels along the longest side of the head's box.
    image_size:   pixels (square) of each fusion view.
    texture_size: 0 for vertex colours only; N bakes an N x N UV texture (xatlas) as well.
    """

    triangles: int = 100_000
    resolution: int = 224
    image_size: int = 256
    texture_size: int = 0

    def __post_init__(self) -> None:
        if self.triangles < 100:
            raise InputError(f"mesh: a triangle budget of {self.triangles} is too small (100 at least)")
        if not 32 <= self.resolution <= 512:
            raise InputError(f"mesh: resolution must be within 32..512 voxels, got {self.resolution}")
        if not 64 <= self.image_size <= 1024:
            raise InputError(f"mesh: view size must be within 64..1024 px, got {self.image_size}")
        if self.texture_size and not 256 <= self.texture_size <= 8192:
            raise InputError(f"mesh: texture size must be 0 or within 256..8192 px, got {self.texture_size}")


@dataclass(frozen=True)
class Grid:
    """A voxel grid: origin (3,) the centre of voxel (0,0,0), voxel edge length, shape (X,Y,Z)."""

    origin: np.ndarray
    voxel: float
    shape: tuple[int, int, int]

    @classmethod
    def around(cls, lo: np.ndarray, hi: np.ndarray, resolution: int) -> Grid:
        extent = np.maximum(hi - lo, 1e-6)
        voxel = float(extent.max() / resolution)
        margin = 4 * voxel
        shape = tuple(int(np.ceil(e / voxel)) + 9 for e in extent)
        return cls(lo - margin, voxel, (shape[0], shape[1], shape[2]))

    def centres(self, x_slice: slice) -> np.ndarray:
        """(M,3) float32 centres of the voxels in the x-range ``x_slice`` (C order)."""
        ix = np.arange(self.shape[0])[x_slice]
        i, j, k = np.meshgrid(ix, np.arange(self.shape[1]), np.arange(self.shape[2]), indexing="ij")
        idx = np.stack([i.ravel(), j.ravel(), k.ravel()], axis=1)
        return (self.origin + idx * self.voxel).astype(np.float32)


def fuse(views: Views, grid: Grid, cancel: CancelToken | None = None) -> np.ndarray:
    """The fused field (X,Y,Z) float32 in [-1,1]: positive outside, negative inside (module doc, 2)."""
    from scipy import ndimage

    trunc = TRUNCATION_VOXELS * grid.voxel
    solid = views.alpha >= SOLID_ALPHA
    hulls = np.stack([ndimage.binary_fill_holes(mask) for mask in solid])
    field = np.empty(grid.shape, np.float32)
    slab = max(1, 2_000_000 // (grid.shape[1] * grid.shape[2]))
    for x0 in range(0, grid.shape[0], slab):
        sl = slice(x0, min(grid.shape[0], x0 + slab))
        pts = grid.centres(sl)
        acc = np.zeros(len(pts), np.float32)
        cnt = np.zeros(len(pts), np.float32)
        carved = np.zeros(len(pts), bool)
        for view in range(len(views.c2w)):
            if cancel is not None:
                cancel.raise_if_cancelled()
            row, col, z, inside = views.project(view, pts)
            carved |= inside & ~hulls[view][row, col]
            seen = inside & solid[view][row, col]
            sdf = views.depth[view][row, col] - z
            acc += np.where(seen, np.clip(sdf / trunc, -1.0, 1.0), 0.0)
            cnt += seen
        votes = np.where(cnt > 0, acc / np.maximum(cnt, 1.0), -1.0)
        field[sl] = np.where(carved, 1.0, votes).reshape(sl.stop - sl.start, grid.shape[1], grid.shape[2])
    return field


def solid_field(field: np.ndarray) -> np.ndarray:
    """``field`` with every inside region but the largest made outside and cavities filled."""
    from scipy import ndimage

    inside = field < 0
    labels, count = ndimage.label(inside)
    if count == 0:
        raise InputError("mesh: the fused volume is empty (is the head visible from the orbit cameras?)")
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    keep = labels == int(np.argmax(sizes))
    filled = ndimage.binary_fill_holes(keep)
    out = field.copy()
    out[inside & ~keep] = 1.0
    out[filled & ~keep] = -1.0
    return out


SMOOTHING_VOXELS: tuple[float, ...] = (1.0, 1.5, 2.0)
"""Gaussian sigmas (voxels) tried in turn until the simplified surface is one closed piece."""


def extract_surface(field: np.ndarray, grid: Grid, sigma: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Vertices (V,3) float64 in world units and triangles (F,3) int64 of the zero level set of
    the field smoothed by ``sigma`` voxels, outward-facing, the largest connected piece only."""
    import trimesh
    from scipy import ndimage
    from skimage.measure import marching_cubes

    smooth = ndimage.gaussian_filter(solid_field(field), sigma) if sigma > 0 else solid_field(field)
    padded = np.pad(smooth, 1, constant_values=1.0)
    verts, faces, _normals, _values = marching_cubes(
        padded, level=0.0, spacing=(grid.voxel,) * 3, allow_degenerate=False
    )
    verts = verts + grid.origin - grid.voxel
    mesh = trimesh.Trimesh(verts, faces, process=True)
    pieces = trimesh.graph.connected_components(mesh.face_adjacency, nodes=np.arange(len(mesh.faces)))
    if len(pieces) > 1:
        mesh.update_faces(np.isin(np.arange(len(mesh.faces)), max(pieces, key=len)))
        mesh.remove_unreferenced_vertices()
    if mesh.volume < 0:
        mesh.invert()
    return np.asarray(mesh.vertices, np.float64), np.asarray(mesh.faces, np.int64)


def simplify(verts: np.ndarray, faces: np.ndarray, triangles: int) -> tuple[np.ndarray, np.ndarray]:
    """Quadric decimation (fast-simplification) down to about ``triangles`` faces."""
    if len(faces) <= triangles:
        return verts, faces
    import fast_simplification

    v, f = fast_simplification.simplify(
        verts.astype(np.float32), faces.astype(np.int64), 1.0 - triangles / len(faces)
    )
    return np.asarray(v, np.float64), np.asarray(f, np.int64)


def head_mesh(
    g: Gaussians,
    options: MeshOptions | None = None,
    on_progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> trimesh.Trimesh:
    """A closed, coloured triangle mesh (FaceLift frame) of the Gaussian head ``g``.

    Vertex colours always; with ``options.texture_size`` also UV coordinates and a texture
    (TextureVisuals; the vertex colours are then not kept, as GLB/OBJ carry one or the other).
    Raises InputError when ``g`` is empty or nothing solid is seen.
    """
    import trimesh

    from engine.mesh.colour import bake_texture, vertex_colours

    options = options or MeshOptions()
    if len(g) == 0:
        raise InputError("mesh: the head has no Gaussians (is the filter too strict?)")
    views = render_views(g, options.image_size, on_progress, cancel)
    total = len(views.c2w) + 3
    solid = views.alpha >= SOLID_ALPHA
    if not solid.any():
        raise InputError("mesh: no view sees anything solid (opacities too low?)")
    lo, hi = _seen_bounds(g)
    grid = Grid.around(lo, hi, options.resolution)
    on_progress(ProgressEvent(STAGE, total - 3, total, "fusing depth"))
    field = fuse(views, grid, cancel)
    on_progress(ProgressEvent(STAGE, total - 2, total, "extracting and simplifying the surface"))
    for sigma in SMOOTHING_VOXELS:
        verts, faces = simplify(*extract_surface(field, grid, sigma), options.triangles)
        mesh = trimesh.Trimesh(verts, faces, process=True)
        if mesh.is_watertight and mesh.body_count == 1:
            break
    verts, faces = np.asarray(mesh.vertices), np.asarray(mesh.faces)
    on_progress(ProgressEvent(STAGE, total - 1, total, "colouring"))
    if cancel is not None:
        cancel.raise_if_cancelled()
    if options.texture_size:
        mesh = bake_texture(mesh, views, options.texture_size, grid.voxel)
    else:
        mesh = trimesh.Trimesh(
            verts, faces, vertex_colors=vertex_colours(mesh, views, grid.voxel), process=False
        )
    on_progress(ProgressEvent(STAGE, total, total, f"mesh of {len(mesh.faces)} triangles"))
    return mesh


def _seen_bounds(g: Gaussians) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of the centres of the Gaussians that can be seen (opacity >= 0.1), padded by
    three standard deviations of the largest of them."""
    solid = g.opacities >= 0.1
    pick = g.subset(solid) if solid.any() else g
    lo, hi = pick.bbox()
    pad = 3.0 * float(np.percentile(pick.scales.max(axis=1), 99)) if len(pick) else 0.0
    return lo.astype(np.float64) - pad, hi.astype(np.float64) + pad
