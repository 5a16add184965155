"""Driver landmarks -> the head's motion: pose (rigid fit on stable landmarks) and expression
(landmark displacements in the driver's head frame relative to its neutral face, retargeted to
the head's proportions), smoothed with a One-Euro filter; frames without a face hold the last
motion.

Frames: the driver's landmarks are pixels (x right, y down, z away from the camera), an OpenCV
camera frame, as is FaceLift's front camera; a rotation R seen by the driver's camera becomes
C R C^T in the world (C: the front camera's camera-to-world rotation), so the head turns as the
driver's face turns on screen.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.animate.deform import Pose
from engine.animate.landmarks import STABLE, face_height, face_width
from engine.animate.rig import Rig
from engine.animate.similarity import fit_similarity, rotation_matrix, rotation_vector
from engine.animate.smoothing import OneEuro


@dataclass(frozen=True)
class Motion:
    """One frame's motion for a rig: ``offsets`` (478,3) world expression offsets (static head
    frame), ``pose`` the head's rigid motion, ``found`` whether this frame had a face."""

    offsets: np.ndarray
    pose: Pose
    found: bool


def front_rotation() -> np.ndarray:
    """(3,3) camera-to-world rotation of FaceLift's front camera."""
    from engine.cameras import facelift_cameras

    return np.asarray(facelift_cameras(512).c2w[0][:3, :3], dtype=np.float64)


def head_pixels(rig: Rig) -> np.ndarray:
    """(478,3) the rig's landmarks as the front camera's pixels (512 px; z in x's pixel scale
    relative to the mid-plane), the same convention as a photo's face mesh."""
    from engine.cameras import facelift_cameras

    cams = facelift_cameras(512)
    c2w = cams.c2w[0].astype(np.float64)
    fx, fy, cx, cy = (float(v) for v in cams.fxfycxcy[0])
    cam = (rig.landmarks - c2w[:3, 3]) @ c2w[:3, :3]
    mid = float(np.linalg.norm(c2w[:3, 3]))
    return np.stack(
        [cam[:, 0] / cam[:, 2] * fx + cx, cam[:, 1] / cam[:, 2] * fy + cy, (cam[:, 2] - mid) * fx / mid], 1
    )


class Retargeter:
    """Turns driver landmarks into :class:`Motion` for ``rig``.

    neutral: (478,3) the driver's neutral face in its pixels (a video's first frame with a
    face), or None to use the head's own face (a single photo as driver: its pose and expression
    are taken relative to the head's). rate: driver frames per second (for the smoothing);
    smooth: False turns the filter off. follow_translation: move the head across the picture
    as the driver's face moves (else it turns in place).
    """

    def __init__(
        self,
        rig: Rig,
        neutral: np.ndarray | None,
        rate: float,
        *,
        smooth: bool = True,
        follow_translation: bool = False,
    ) -> None:
        self.rig = rig
        self.neutral = head_pixels(rig) if neutral is None else np.asarray(neutral, dtype=np.float64)
        self.c = front_rotation()
        # world units per driver pixel, across and along the face
        self.sx = rig.width / max(face_width(self.neutral), 1e-9)
        self.sy = rig.height / max(face_height(self.neutral), 1e-9)
        self.follow = follow_translation
        self._filters = [OneEuro(rate) for _ in range(3)] if smooth else None
        self._last = Motion(np.zeros_like(rig.landmarks), Pose(), False)
        self._stable = list(STABLE)

    def __call__(self, landmarks: np.ndarray | None) -> Motion:
        """The motion for one frame's driver landmarks (478,3) pixels, or the last one when
        None (no face in the frame)."""
        if landmarks is None:
            return Motion(self._last.offsets, self._last.pose, False)
        lm = np.asarray(landmarks, dtype=np.float64)
        st = self._stable
        s, rot, t = fit_similarity(self.neutral[st], lm[st])
        canon = (lm - t) @ rot / s  # R^T (p - t) / s, row-wise
        disp = canon - self.neutral
        rv = rotation_vector(rot)
        shift = lm[st].mean(axis=0) - self.neutral[st].mean(axis=0)
        if self._filters is not None:
            rv, shift, disp = (f(x) for f, x in zip(self._filters, (rv, shift, disp), strict=True))
        scale = np.array([self.sx, self.sy, self.sx])
        offsets = (disp * scale) @ self.c.T
        rot_world = self.c @ rotation_matrix(rv) @ self.c.T
        trans = np.zeros(3)
        if self.follow:
            trans = (np.array([shift[0], shift[1], 0.0]) * scale) @ self.c.T
        self._last = Motion(offsets, Pose(rot_world, trans), True)
        return self._last
