"""The face's plane of symmetry, for filling the side the photo does not show.

A turned face shows one cheek and hides the other; a frontal one hides the sides behind its
outline unevenly. A hidden surface point whose mirror image across the face's symmetry plane
is seen by the photo takes the colour seen there (a cheek from the other cheek) instead of the
synthesised hair/skin strips.

The plane comes from symmetric landmark pairs of the 478-point face mesh, lifted to 3D along
the front camera's rays (mediapipe z: head centre 0, in x's pixel scale): its normal is the
mean direction from each pair's right point to its left one, it passes through their mean
midpoint. Without landmarks: the plane through the head's centre across the camera's x axis.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.instant.geometry import FrontCamera, HeadShape

PAIRS = ((234, 454), (33, 263), (133, 362), (61, 291), (127, 356), (58, 288), (70, 300))


@dataclass(frozen=True)
class Plane:
    """A plane in the world: a point on it (3,) and its unit normal (3,)."""

    point: np.ndarray
    normal: np.ndarray

    def reflect(self, xyz: np.ndarray, normals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mirror images of points (N,3) and of their unit normals (N,3)."""
        n = self.normal
        pts = xyz - 2.0 * ((xyz - self.point) @ n)[:, None] * n
        nrm = normals - 2.0 * (normals @ n)[:, None] * n
        return pts, nrm


def symmetry_plane(
    landmarks: np.ndarray | None,
    cam: FrontCamera,
    head: HeadShape | None,
    pairs: tuple[tuple[int, int], ...] = PAIRS,
) -> Plane:
    """The face's symmetry plane in the world from landmarks (478,3) crop px (x, y, mediapipe
    z) and their symmetric index ``pairs``; without landmarks, through the head's centre (the
    image centre without a head either)."""
    x_axis = cam.c2w[:3, 0] / np.linalg.norm(cam.c2w[:3, 0])
    if landmarks is None:
        u = head.centre_px[0] if head is not None else cam.cx
        local = np.array([(u - cam.cx) / cam.fx * cam.mid_depth, 0.0, cam.mid_depth])
        return Plane(cam.to_world(local), x_axis)
    lm = np.asarray(landmarks, np.float64)
    depth = cam.mid_depth + lm[:, 2] * cam.pixel_world
    local = np.stack(
        [(lm[:, 0] - cam.cx) / cam.fx * depth, (lm[:, 1] - cam.cy) / cam.fy * depth, depth], axis=1
    )
    world = cam.to_world(local)
    a = world[[p[0] for p in pairs]]
    b = world[[p[1] for p in pairs]]
    d = b - a
    d /= np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-12)
    normal = d.mean(axis=0)
    if normal @ x_axis < 0:
        normal = -normal
    normal /= max(float(np.linalg.norm(normal)), 1e-12)
    return Plane(0.5 * (a + b).mean(axis=0), normal)
