"""InstantReconstructor: one prepared photo -> a closed head (Gaussians + mesh), offline, on CPU.

Stages (progress stage "instant", cancel checked between them):
1. mesh     - mediapipe face mesh (478 refined landmarks) on the 512 crop;
2. head     - front/back depth of the whole foreground (geometry.py) and the closed head
              surface fitted to it (head_mesh.py);
3. front    - one flat Gaussian per pixel where the front camera sees the surface squarely
              (photo colours), camera-facing discs on the matte's soft edge;
4. surface  - flat discs covering the rest of the mesh (surface_splats.py): sides, back, under
              the chin; photo colours where the photo sees them, synthesised ones elsewhere;
5. assemble - stored 3DGS parameters in the FaceLift world frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from engine.api import CancelToken, ProgressCallback, ProgressEvent, no_progress
from engine.errors import InputError
from engine.gaussians import Gaussians
from engine.instant.colors import UnseenColours, unseen_colours
from engine.instant.deconvolve import DILATION, solve_colours
from engine.instant.geometry import CHIN, DepthLayers, FrontCamera, foreground_depth, front_camera
from engine.instant.head_mesh import INSET_PX, HeadMesh, build_head_mesh
from engine.instant.mirror import Plane, symmetry_plane
from engine.instant.splats import Parts, surface_layer, to_gaussians
from engine.instant.surface_splats import sample_surface

STAGES = ("mesh", "head", "front", "surface", "assemble")
SOLID_ALPHA = 0.5
OVERLAP = 1.6  # how many discs cover a pixel's centre, roughly (opacity compensation)
FACING_MIN = 0.3  # cos of the angle to the camera below which the mesh discs take over
EDGE_SHIFT = 0.7  # px: the discs and the rasteriser's blur widen the matte by about this much
FRONT_SIGMA = 0.65  # disc size, in steps to the next pixel: closes the surface at 2x magnification
BEHIND_REACH = 7  # px: the neighbourhood a mesh disc overlaps in the front view
BEHIND_PX = 1.0  # mesh discs the front layer covers sit at least this far behind it
SOLVE_ITERATIONS = 6  # conjugate-gradient steps of the colour solve (deconvolve.py), in 2 rounds
SURFACE_SPACING_PX = 3.0  # between mesh discs, in front-camera pixels at the mid-plane
SURFACE_OPACITY = 0.99
SOLID_OPACITY = 0.99  # front discs inside the outline (with the overlap: opaque)
VISIBLE_TOL_PX = 6.0  # a mesh point this close behind the front depth is what the photo shows
FRINGE_PX = 4  # solid matte pixels this close to its edge still carry the background


@dataclass(frozen=True)
class InstantHead:
    """The instant engine's result: Gaussians and the fitted mesh, both in the FaceLift frame."""

    gaussians: Gaussians
    mesh: HeadMesh


class InstantReconstructor:
    """The built-in engine: needs no weights and no GPU."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self.camera: FrontCamera = front_camera(size)

    def reconstruct(
        self,
        prepared: object,
        *,
        cancel: CancelToken | None = None,
        on_progress: ProgressCallback = no_progress,
    ) -> InstantHead:
        """The Gaussians and the closed head mesh (FaceLift world: +Z up, face toward -Y) for an
        engine.preprocess.Prepared. ``cancel`` is checked after each stage's event to
        ``on_progress``, so a cancel on seeing stage i skips its work."""
        from engine.preprocess import mediapipe_graphs as mpg

        image = np.asarray(getattr(prepared, "image", None))
        if image.shape != (self.size, self.size, 3) or image.dtype != np.uint8:
            raise InputError(
                f"instant engine: needs a {self.size}x{self.size} RGB uint8 image, got {image.shape}"
            )
        total = len(STAGES)

        def stage(i: int, message: str) -> None:
            on_progress(ProgressEvent("instant", i, total, message))
            if cancel is not None:  # after the report: a cancel on seeing stage i skips its work
                cancel.raise_if_cancelled()

        stage(0, "finding the face mesh")
        landmarks = mpg.face_mesh(image)
        if landmarks is None:
            given = getattr(prepared, "landmarks", None)
            landmarks = None if given is None else np.asarray(given, dtype=np.float64)
        alpha = getattr(prepared, "alpha", None)
        if alpha is None:
            alpha = mpg.segment_person(image)
        alpha = np.clip(np.asarray(alpha, dtype=np.float64), 0.0, 1.0)

        stage(1, "fitting the head surface")
        solid = ndimage.binary_fill_holes(alpha > SOLID_ALPHA)
        if solid.sum() < 64:
            raise InputError("instant engine: the image has almost no foreground to reconstruct")
        layers = foreground_depth(solid, self.camera, landmarks, mpg.mesh_triangles())
        mesh = build_head_mesh(layers, self.camera)

        stage(2, "placing the visible surface")
        rgb = image.astype(np.float64) / 255.0
        parts = Parts.new()
        front_ok, front_depth = self._front_surface(parts, layers, rgb, alpha)

        stage(3, "covering the head")
        chin = (
            float(landmarks[CHIN, 1])
            if landmarks is not None
            else layers.head.centre_px[1] + layers.head.radii_px[1]
        )
        inner = _inner_colours(rgb, alpha)
        # The synthesised hair and clothes are taken from further inside than the matte's edge.
        unseen = unseen_colours(
            _inner_colours(rgb, alpha, FRINGE_PX),
            layers.mask,
            layers.face,
            chin,
            2.0 * layers.head.radii_px[0],
        )
        mirror = symmetry_plane(landmarks, self.camera, layers.head)
        mesh = self._head_surface(parts, mesh, layers, (front_ok, front_depth), inner, (unseen, mirror))

        stage(4, "assembling Gaussians")
        result = to_gaussians(parts)
        on_progress(ProgressEvent("instant", total, total, f"{len(result)} Gaussians"))
        return InstantHead(result, mesh)

    # ----------------------------------------------------------------------------------

    def _world_grid(self, depth: np.ndarray) -> np.ndarray:
        return self.camera.to_world(self.camera.rays() * depth[:, :, None])

    def _front_surface(
        self, parts: Parts, layers: DepthLayers, rgb: np.ndarray, alpha: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """One disc per pixel where the surface faces the camera. Returns (that mask (H,W)
        bool, the layer's camera depth (H,W), +inf where it has no disc)."""
        cam = self.camera
        depth = layers.front
        points = self._world_grid(depth)
        facing = _facing(points, layers.mask, cam)
        front_ok = layers.mask & (facing > FACING_MIN)
        # The band where the surface turns away from the camera (cos <= FACING_MIN) is not left
        # to the mesh's discs: the solve needs it. Its discs stay on the surface (aspect capped);
        # turned to face the camera they stacked into a hatched seam down the side views. The
        # matte's soft fringe outside the solid gets no discs: edge-on from the side they drew a
        # line down the head at the front view's outline.
        valid = layers.mask
        footprint = depth / cam.fx
        toward = cam.c2w[:3, 3] / np.linalg.norm(cam.c2w[:3, 3])  # normals face the camera
        xyz, scales, quats = surface_layer(points, valid, footprint, toward, FRONT_SIGMA)
        start = _uncomposited(rgb, alpha)
        op_img = 1.0 - (1.0 - np.minimum(_pulled_in(alpha), 0.995)) ** (1.0 / OVERLAP)
        # Inside the mesh's outline the head is solid: a partial matte there would let the
        # mesh's far side show through. Only the outer edge keeps the matte's softness.
        core = ndimage.binary_erosion(layers.mask, iterations=INSET_PX)
        op_img = np.where(core, SOLID_OPACITY, op_img)
        op_img = np.where(valid, op_img, 0.0)
        solved = solve_colours(
            rgb,
            start,
            valid,
            depth,
            op_img,
            valid,
            FRONT_SIGMA**2 + DILATION,
            iterations=SOLVE_ITERATIONS,
        )
        parts.add(xyz, solved[valid], scales, quats, op_img[valid])
        return np.asarray(front_ok), np.where(valid, depth, np.inf)

    def _head_surface(
        self,
        parts: Parts,
        mesh: HeadMesh,
        layers: DepthLayers,
        front: tuple[np.ndarray, np.ndarray],
        rgb: np.ndarray,
        hidden: tuple[UnseenColours, Plane],
    ) -> HeadMesh:
        """Discs on every triangle the front layer does not cover; vertex colours for the mesh."""
        cam = self.camera
        front_ok, front_depth = front
        vis_w, uv = self._photo_weight(mesh.vertices, mesh.normals, layers)
        covered = vis_w >= 1.0
        covered &= _lookup(front_ok.astype(np.float64), uv) > 0.5
        todo = ~covered[mesh.faces].all(axis=1)
        spacing = SURFACE_SPACING_PX * cam.pixel_world
        xyz, scales, quats, normals = sample_surface(mesh.vertices, mesh.faces[todo], mesh.normals, spacing)
        colour = self._colour_at(xyz, normals, layers, rgb, hidden)
        xyz = self._behind(xyz, front_depth)
        parts.add(xyz, colour, scales, quats, np.full(len(xyz), SURFACE_OPACITY))
        return mesh.with_colours(self._colour_at(mesh.vertices, mesh.normals, layers, rgb, hidden))

    def _behind(self, xyz: np.ndarray, front_depth: np.ndarray) -> np.ndarray:
        """(N,3) mesh disc centres moved along their front-camera ray to just behind the front
        layer where they would lie in front of it. The colour solve models the front layer
        alone as what the input camera sees; a coarse-mesh disc poking through it (nose,
        jaw, outline) would draw over the solved colours."""
        cam = self.camera
        origin = cam.c2w[:3, 3]
        local = (xyz - origin) @ cam.c2w[:3, :3]
        z = local[:, 2]
        uv = self._pixels(local)
        h, w = front_depth.shape
        ix = np.clip(uv[:, 0].astype(np.int64), 0, w - 1)
        iy = np.clip(uv[:, 1].astype(np.int64), 0, h - 1)
        # A disc spans a few pixels: it must be behind every front disc it overlaps.
        reach = ndimage.maximum_filter(
            np.where(np.isfinite(front_depth), front_depth, 0.0), size=BEHIND_REACH
        )
        limit = np.where(np.isfinite(front_depth[iy, ix]), reach[iy, ix], 0.0) + BEHIND_PX * cam.pixel_world
        scale = np.where(z < limit, limit / np.maximum(z, 1e-6), 1.0)[:, None]
        return np.asarray(origin + (xyz - origin) * scale)

    def _project(self, xyz: np.ndarray) -> np.ndarray:
        """(N,2) front-camera pixel coordinates (pixel centres at i + 0.5) of world points."""
        return self._pixels((xyz - self.camera.c2w[:3, 3]) @ self.camera.c2w[:3, :3])

    def _pixels(self, local: np.ndarray) -> np.ndarray:
        """(N,2) pixel coordinates of (N,3) points in the front camera's frame."""
        cam = self.camera
        z = np.maximum(local[:, 2], 1e-6)
        return np.stack([cam.fx * local[:, 0] / z + cam.cx, cam.fy * local[:, 1] / z + cam.cy], axis=1)

    def _photo_weight(
        self, xyz: np.ndarray, normals: np.ndarray, layers: DepthLayers
    ) -> tuple[np.ndarray, np.ndarray]:
        """((N,) in [0,1]: how much the photo shows each surface point (visible, and facing);
        (N,2) the points' front-camera pixel coordinates)."""
        cam = self.camera
        local = (xyz - cam.c2w[:3, 3]) @ cam.c2w[:3, :3]
        uv = self._pixels(local)
        front = _lookup(layers.front, uv)
        visible = local[:, 2] <= front + VISIBLE_TOL_PX * cam.pixel_world
        to_cam = cam.c2w[:3, 3] - xyz
        to_cam /= np.linalg.norm(to_cam, axis=1, keepdims=True)
        facing = (normals * to_cam).sum(axis=1)
        return np.asarray(visible * np.clip(facing / FACING_MIN, 0.0, 1.0)), uv

    def _colour_at(
        self,
        xyz: np.ndarray,
        normals: np.ndarray,
        layers: DepthLayers,
        rgb: np.ndarray,
        hidden_colours: tuple[UnseenColours, Plane],
    ) -> np.ndarray:
        """(N,3) colours: the photo's where it shows the point, the synthesised ones elsewhere
        (laid around the head by azimuth, one photo pixel per pixel of arc at the head's radius)."""
        w, uv = self._photo_weight(xyz, normals, layers)
        w = w[:, None]
        photo = _lookup(rgb, uv)
        arc = (np.arctan2(xyz[:, 0], -xyz[:, 1]) + np.pi) * layers.head.radii_px[0]
        unseen, mirror = hidden_colours
        hidden = unseen(uv[:, 1], arc)
        # Where the photo sees the point's mirror image (the other cheek), that colour.
        m_xyz, m_normals = mirror.reflect(xyz, normals)
        w_m, m_uv = self._photo_weight(m_xyz, m_normals, layers)
        w_m = w_m[:, None]
        mirrored = _lookup(rgb, m_uv)
        hidden = w_m * mirrored + (1.0 - w_m) * hidden
        return np.asarray(w * photo + (1.0 - w) * hidden)


def _facing(points: np.ndarray, mask: np.ndarray, cam: FrontCamera) -> np.ndarray:
    """(H,W) cos of the angle between the depth map's surface normal and the view ray."""
    gx = np.gradient(points, axis=1)
    gy = np.gradient(points, axis=0)
    n = np.cross(gx, gy)
    n /= np.maximum(np.linalg.norm(n, axis=2, keepdims=True), 1e-12)
    ray = points - cam.c2w[:3, 3]
    ray /= np.maximum(np.linalg.norm(ray, axis=2, keepdims=True), 1e-12)
    return np.asarray(np.abs((n * ray).sum(axis=2)))


def _lookup(img: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """Bilinear lookup of an (H,W) or (H,W,C) image at (N,2) pixel coordinates (centres at
    i + 0.5), edge pixels repeated outside: (N,) or (N,C). (scipy's map_coordinates with
    order=1, mode="nearest", done as flat gathers so all channels share one set of indices.)"""
    h, w = img.shape[:2]
    x = uv[:, 0] - 0.5
    y = uv[:, 1] - 0.5
    x0, y0 = np.floor(x), np.floor(y)
    fx, fy = x - x0, y - y0
    ix0 = np.clip(x0, 0, w - 1).astype(np.intp)
    ix1 = np.clip(x0 + 1, 0, w - 1).astype(np.intp)
    iy0 = np.clip(y0, 0, h - 1).astype(np.intp) * w
    iy1 = np.clip(y0 + 1, 0, h - 1).astype(np.intp) * w
    corners = (iy0 + ix0, iy0 + ix1, iy1 + ix0, iy1 + ix1)
    gx, gy = 1.0 - fx, 1.0 - fy

    def one(channel: np.ndarray) -> np.ndarray:
        flat = np.ascontiguousarray(channel).ravel()
        v00, v01, v10, v11 = (flat.take(i) for i in corners)
        return np.asarray((v00 * gx + v01 * fx) * gy + (v10 * gx + v11 * fx) * fy)

    if img.ndim == 2:
        return one(img)
    return np.stack([one(img[:, :, c]) for c in range(img.shape[2])], axis=1)


def _inner_colours(rgb: np.ndarray, alpha: np.ndarray, inset: int = 0) -> np.ndarray:
    """(H,W,3) photo colours where the matte is solid and at least ``inset`` px inside its
    edge; elsewhere the nearest such pixel's. rgb (H,W,3), alpha (H,W), both in [0,1].

    Edge pixels are mixed with the white background and would paint the sides white; so are
    the first few solid ones (backlit strands, a matte a little wider than the subject): the
    hidden hair's strips (colors.py) ended on those pixels and, every row wrapping at the same
    azimuth, drew a light vertical line down the back and the sides (hence FRINGE_PX there)."""
    solid = alpha > 0.95
    if inset > 0:
        solid = ndimage.binary_erosion(solid, iterations=inset)
    if not solid.any():
        solid = alpha > 0.95
    if not solid.any():
        return rgb
    _, (iy, ix) = ndimage.distance_transform_edt(~solid, return_indices=True)
    return np.asarray(rgb[iy, ix])


def _uncomposited(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Undo the white composite (H,W,3), so colour*alpha over white gives the pixel back."""
    a = alpha[:, :, None]
    colour = (rgb - (1.0 - a)) / np.maximum(a, 1e-3)
    return np.asarray(np.where(a > 0.05, np.clip(colour, 0.0, 1.0), rgb))


def _pulled_in(alpha: np.ndarray) -> np.ndarray:
    """The matte moved EDGE_SHIFT pixels inward (first order: alpha - shift*|grad alpha|), so
    after the splats' blur widens it again the rendered coverage matches the matte."""
    gy, gx = np.gradient(alpha)
    return np.asarray(np.clip(alpha - EDGE_SHIFT * np.hypot(gx, gy), 0.0, 1.0))
