"""InstantReconstructor: one prepared photo -> a closed Gaussian head, offline, in ~1 s on CPU.

Stages (progress stage "instant", cancel checked between them):
1. mesh     - mediapipe face mesh (478 refined landmarks) on the 512 crop;
2. depth    - front/back depth of the whole foreground (geometry.py);
3. surface  - one Gaussian per foreground pixel on the front camera's rays (photo colours);
4. closure  - the back layer and the columns that close sides and gaps (colours.py);
5. assemble - stored 3DGS parameters in the FaceLift world frame.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from engine.api import CancelToken, ProgressCallback, ProgressEvent, no_progress
from engine.errors import InputError
from engine.gaussians import Gaussians
from engine.instant.colors import back_colors
from engine.instant.geometry import CHIN, DepthLayers, FrontCamera, foreground_depth, front_camera
from engine.instant.splats import (
    COLUMN_OPACITY,
    Parts,
    segments,
    surface_layer,
    to_gaussians,
)

STAGES = ("mesh", "depth", "surface", "closure", "assemble")
SOLID_ALPHA = 0.5
MIN_ALPHA = 0.02
OVERLAP = 1.6  # how many discs cover a pixel's centre, roughly (opacity compensation)
BACK_STRIDE = 2
CLOSURE_INSET = 4  # pixels
BACK_INSET = 2  # pixels further in: the back discs are wider
WALL_STEP = 2.5  # footprints between wall needles along a ray (they are long along it)
GAP_STEPS = 3.0  # depth steps below this many footprints are bridged by the discs themselves
EDGE_SHIFT = 0.7  # px: the discs and the rasteriser's blur widen the matte by about this much
SHARPEN = 0.6  # pre-compensates the splats' own blur (disc overlap + the rasteriser's 0.3 px^2)
SHARPEN_SIGMA = 0.8
BACK_OPACITY = 0.99
BACK_SIGMA = 0.65  # of the back layer's (coarser) step: opaque from behind


class InstantReconstructor:
    """The built-in engine: needs no weights and no GPU."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self.camera: FrontCamera = front_camera(size)

    def run(
        self,
        prepared: object,
        on_progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
    ) -> Gaussians:
        """Gaussians (FaceLift world: +Z up, face toward -Y) for an engine.preprocess.Prepared."""
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

        stage(1, "estimating depth")
        solid = ndimage.binary_fill_holes(alpha > SOLID_ALPHA)
        if solid.sum() < 64:
            raise InputError("instant engine: the image has almost no foreground to reconstruct")
        layers = foreground_depth(solid, self.camera, landmarks, mpg.mesh_triangles())

        stage(2, "placing the visible surface")
        rgb = image.astype(np.float64) / 255.0
        parts = Parts.new()
        self._front_surface(parts, layers, rgb, alpha)

        stage(3, "closing the back and sides")
        chin = (
            float(landmarks[CHIN, 1])
            if landmarks is not None
            else layers.head.centre_px[1] + layers.head.radii_px[1]
        )
        back_rgb = back_colors(rgb, layers.mask, layers.face, chin, 2.0 * layers.head.radii_px[0])
        self._closure(parts, layers, _inner_colours(rgb, alpha), back_rgb)

        stage(4, "assembling Gaussians")
        result = to_gaussians(parts)
        on_progress(ProgressEvent("instant", total, total, f"{len(result)} Gaussians"))
        return result

    # ----------------------------------------------------------------------------------

    def _world_grid(self, depth: np.ndarray) -> np.ndarray:
        return self.camera.to_world(self.camera.rays() * depth[:, :, None])

    def _front_surface(self, parts: Parts, layers: DepthLayers, rgb: np.ndarray, alpha: np.ndarray) -> None:
        cam = self.camera
        # Soft matte edges outside the solid take the depth of the nearest solid pixel.
        _, (iy, ix) = ndimage.distance_transform_edt(~layers.mask, return_indices=True)
        depth = layers.front[iy, ix]
        near_solid = ndimage.binary_dilation(layers.mask, iterations=3)
        valid = layers.mask | ((alpha > MIN_ALPHA) & near_solid)
        points = self._world_grid(depth)
        footprint = depth / cam.fx
        toward = cam.c2w[:3, 3] - 0.0  # normals face the camera
        # Outside the closed solid (the matte's fringe) discs face the camera: they only
        # matter to the front view and would show as a pale line from the side.
        fringe = ~ndimage.binary_erosion(layers.mask, iterations=CLOSURE_INSET)
        axes = (cam.c2w[:3, 0], cam.c2w[:3, 1])
        xyz, scales, quats = surface_layer(
            points, valid, footprint, toward / np.linalg.norm(toward), facing=fringe, screen_axes=axes
        )
        colour = _sharpened(_uncomposited(rgb, alpha), alpha)[valid]
        opacity = 1.0 - (1.0 - np.minimum(_pulled_in(alpha)[valid], 0.995)) ** (1.0 / OVERLAP)
        parts.add(xyz, colour, scales, quats, opacity)

    def _closure(self, parts: Parts, layers: DepthLayers, rgb: np.ndarray, back_rgb: np.ndarray) -> None:
        cam = self.camera
        # Closure stays a few pixels inside the silhouette, under the opaque part of the front
        # layer, so it never shows through the soft matte edge in the front view.
        mask = ndimage.binary_erosion(layers.mask, iterations=CLOSURE_INSET)
        back_mask = ndimage.binary_erosion(mask, iterations=BACK_INSET)
        origin = cam.c2w[:3, 3]
        front_pts = self._world_grid(layers.front)
        back_all = self._world_grid(layers.back)
        fp = layers.front / cam.fx

        # Back layer on every s-th pixel, facing away from the camera.
        s = BACK_STRIDE
        sub = (slice(s // 2, None, s), slice(s // 2, None, s))
        bmask, bfp = back_mask[sub], (layers.back / cam.fx)[sub] * s
        xyz, scales, quats = surface_layer(
            back_all[sub], bmask, bfp, -origin / np.linalg.norm(origin), BACK_SIGMA
        )
        parts.add(xyz, back_rgb[sub][bmask], scales, quats, np.full(len(xyz), BACK_OPACITY))

        # Steep slopes: needles from a deeper pixel to its nearer neighbour (front), and from
        # a nearer back pixel to its deeper neighbour (back, on the coarse grid).
        self._gap_needles(parts, front_pts, layers.front, mask, rgb, fp, nearer=True)
        self._gap_needles(parts, back_all[sub], layers.back[sub], bmask, back_rgb[sub], bfp, nearer=False)

        # Side walls along the rays of the silhouette's edge, front colour to back colour.
        edge = mask & ~ndimage.binary_erosion(mask, border_value=0)
        xyz, col, scales, quats = segments(
            front_pts[edge], back_all[edge], rgb[edge], back_rgb[edge], fp[edge], ease=True, step=WALL_STEP
        )
        parts.add(xyz, col, scales, quats, np.full(len(xyz), COLUMN_OPACITY))

    @staticmethod
    def _gap_needles(
        parts: Parts,
        points: np.ndarray,
        depth: np.ndarray,
        mask: np.ndarray,
        rgb: np.ndarray,
        footprint: np.ndarray,
        nearer: bool,
    ) -> None:
        """Fill the gap between each pixel and each 4-neighbour that is more than GAP_STEPS
        footprints nearer (``nearer``) or farther away; each gap is filled once, from one side.
        Smaller steps are already bridged by the stretched surface discs."""
        h, w = mask.shape
        for dy, dx in ((0, 1), (0, -1), (1, 0), (-1, 0)):
            ys, xs = np.nonzero(mask)
            qy, qx = ys + dy, xs + dx
            inside = (qy >= 0) & (qy < h) & (qx >= 0) & (qx < w)
            ys, xs, qy, qx = ys[inside], xs[inside], qy[inside], qx[inside]
            ok = mask[qy, qx]
            diff = depth[ys, xs] - depth[qy, qx]
            step = GAP_STEPS * footprint[ys, xs]
            ok &= (diff > step) if nearer else (-diff > step)
            ys, xs, qy, qx = ys[ok], xs[ok], qy[ok], qx[ok]
            xyz, col, scales, quats = segments(
                points[ys, xs], points[qy, qx], rgb[ys, xs], rgb[qy, qx], footprint[ys, xs]
            )
            parts.add(xyz, col, scales, quats, np.full(len(xyz), COLUMN_OPACITY))


def _neighbour_extrema(depth: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Min and max of the 4-neighbours' depth within the mask (own depth where none)."""
    lo = depth.copy()
    hi = depth.copy()
    for axis in (0, 1):
        for shift in (1, -1):
            nd = np.roll(depth, shift, axis=axis)
            nm = np.roll(mask, shift, axis=axis)
            edge = [slice(None), slice(None)]
            edge[axis] = slice(0, 1) if shift == 1 else slice(-1, None)
            nm[tuple(edge)] = False
            lo = np.where(nm, np.minimum(lo, nd), lo)
            hi = np.where(nm, np.maximum(hi, nd), hi)
    return lo, hi


def _inner_colours(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """(H,W,3) photo colours where the matte is solid; elsewhere the nearest solid pixel's
    (edge pixels are mixed with the white background and would paint the sides white)."""
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


def _sharpened(colour: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Unsharp mask over the foreground only (the blur never mixes in the white background)."""
    if SHARPEN <= 0:
        return colour
    w = (alpha > 0.5).astype(np.float64)
    sig = (SHARPEN_SIGMA, SHARPEN_SIGMA, 0.0)
    blur = ndimage.gaussian_filter(colour * w[:, :, None], sig) / np.maximum(
        ndimage.gaussian_filter(w, SHARPEN_SIGMA)[:, :, None], 1e-6
    )
    out = colour + SHARPEN * (colour - blur) * w[:, :, None]
    return np.asarray(np.clip(out, 0.0, 1.0))


def _pulled_in(alpha: np.ndarray) -> np.ndarray:
    """The matte moved EDGE_SHIFT pixels inward (first order: alpha - shift*|grad alpha|), so
    after the splats' blur widens it again the rendered coverage matches the matte."""
    gy, gx = np.gradient(alpha)
    return np.asarray(np.clip(alpha - EDGE_SHIFT * np.hypot(gx, gy), 0.0, 1.0))
