"""A video driver's lower face followed by optical flow from its neutral frame.

mediapipe's face mesh holds an opening mouth back toward its shape prior. On the astronaut's
photo with its lower face moved down by a known 10 / 20 / 30 px (the mouth's opening), the
inner lower lip reads 7.8 / 15.2 / 26.4 px and the chin 6.2 / 11.9 / 11.5 px, so a head driven
by those landmarks opens its mouth by two thirds of the driver's, and the rendered head, read
by the same face mesh, looks half as open again. Dense optical flow (OpenCV's DIS) from the
driver's neutral frame follows the lips and skin themselves: 19.5 px of 20 at the lower lip and
the chin.

So the lower lip and the jaw (the landmarks past the inner lips' middle, along the face's
down axis: what opens) are moved to where the flow carries their neutral positions, in full
where the flow is consistent forwards and backwards (the round trip returns within FB_FULL
pixels of the flow's image), not at all beyond FB_NONE (occlusion, the opening's own edge, a
head turned away), blended with mediapipe's positions in between. The upper face keeps
mediapipe's landmarks: the similarity fit of the head's pose rests on them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from engine.animate.landmarks import CHIN, FOREHEAD, LOWER_LIP_INNER, UPPER_LIP_INNER, face_height

# The flow runs on crops scaled so the face is this high: a small face is enlarged, or the
# flow's pyramid has too few levels to follow a dropping jaw (a 108 px face opened by 20 px: the
# lower lip read 9.6 px at its own size, 19.7 enlarged).
FLOW_FACE_PX = 256
MARGIN = 0.35  # face heights around the lower face's landmarks (room for the jaw to drop)
FB_FULL = 1.0  # px of the flow's image: forward-backward error with full trust in the flow
FB_NONE = 3.0  # px: no trust beyond this


@dataclass(frozen=True)
class Neutral:
    """The driver's neutral frame: ``gray`` (H,W) uint8, its ``landmarks`` (478,3) pixels and
    ``lower`` (478,) bool, the landmarks of the lower lip and jaw."""

    gray: np.ndarray
    landmarks: np.ndarray
    lower: np.ndarray


def _gray(frame: np.ndarray) -> np.ndarray:
    import cv2

    return np.asarray(cv2.cvtColor(np.ascontiguousarray(frame[:, :, :3]), cv2.COLOR_RGB2GRAY))


def lower_face(landmarks: np.ndarray) -> np.ndarray:
    """(478,) bool: the landmarks (478,3) past the inner lips' middle along the face's down
    axis (forehead -> chin): the lower lip, the jaw and the chin."""
    lm = np.asarray(landmarks, dtype=np.float64)[:, :2]
    down = lm[CHIN] - lm[FOREHEAD]
    down /= max(float(np.linalg.norm(down)), 1e-9)
    middle = 0.5 * (lm[UPPER_LIP_INNER] + lm[LOWER_LIP_INNER])
    return np.asarray((lm - middle) @ down > 0.0)


def neutral_frame(frame: np.ndarray, landmarks: np.ndarray) -> Neutral:
    """The reference for :func:`follow_lower_face`: ``frame`` (H,W,3) uint8 RGB and its face
    mesh (478,3) pixels."""
    lm = np.asarray(landmarks, dtype=np.float64)
    return Neutral(_gray(frame), lm, lower_face(lm))


def follow_lower_face(neutral: Neutral, frame: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """(478,3) float64: ``landmarks`` (478,3) pixels of ``frame`` (H,W,3) uint8 RGB (the same
    size as the neutral frame) with the lower face's x, y moved along the optical flow from the
    neutral frame, weighted by the flow's forward-backward consistency; z and the upper face
    are mediapipe's."""
    import cv2

    lm = np.asarray(landmarks, dtype=np.float64).copy()
    gray = _gray(frame)
    if gray.shape != neutral.gray.shape or not neutral.lower.any():
        return lm
    h, w = gray.shape
    p0 = neutral.landmarks[neutral.lower, :2]
    pts = np.concatenate([p0, lm[neutral.lower, :2]])
    height = max(face_height(neutral.landmarks), 1.0)
    lo = np.floor(pts.min(axis=0) - MARGIN * height).astype(int)
    hi = np.ceil(pts.max(axis=0) + MARGIN * height).astype(int)
    x0, y0 = max(int(lo[0]), 0), max(int(lo[1]), 0)
    x1, y1 = min(int(hi[0]), w), min(int(hi[1]), h)
    if x1 - x0 < 16 or y1 - y0 < 16:
        return lm
    k = FLOW_FACE_PX / height
    size = (max(round((x1 - x0) * k), 16), max(round((y1 - y0) * k), 16))
    a = cv2.resize(neutral.gray[y0:y1, x0:x1], size, interpolation=cv2.INTER_AREA)
    b = cv2.resize(gray[y0:y1, x0:x1], size, interpolation=cv2.INTER_AREA)
    dis = cv2.DISOpticalFlow.create(cv2.DISOpticalFlow_PRESET_MEDIUM)
    out = np.zeros((*a.shape, 2), np.float32)  # the output's buffer (no initial flow is used)
    forward = np.asarray(dis.calc(a, b, out.copy()))
    backward = np.asarray(dis.calc(b, a, out))
    sx, sy = size[0] / (x1 - x0), size[1] / (y1 - y0)
    # landmark pixels (centres at i + 0.5) -> the flow image's array coordinates
    q0 = (p0 - [x0, y0]) * [sx, sy] - 0.5
    f = _sample(forward, q0)
    err = np.linalg.norm(f + _sample(backward, q0 + f), axis=1)
    trust = np.clip((FB_NONE - err) / (FB_NONE - FB_FULL), 0.0, 1.0)[:, None]
    moved = p0 + f / [sx, sy]
    lm[neutral.lower, :2] = trust * moved + (1.0 - trust) * lm[neutral.lower, :2]
    return lm


def _sample(flow: np.ndarray, q: np.ndarray) -> np.ndarray:
    """(N,2) the flow (h,w,2) (dx, dy) at array coordinates q (N,2) (x, y), bilinear."""
    coords = [q[:, 1], q[:, 0]]
    return np.stack(
        [ndimage.map_coordinates(flow[:, :, c], coords, order=1, mode="nearest") for c in range(2)], axis=1
    )
