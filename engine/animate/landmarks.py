"""Named sets of mediapipe's 478 face-mesh landmarks and the measures taken on them.

Landmarks are (478,3) arrays in any frame where axis 1 grows downwards in the image (pixels, or
the head's frame in engine.animate.rig), so "gap" and "height" are distances, not signs.
"""

from __future__ import annotations

import numpy as np

COUNT = 478
MESH_VERTICES = 468  # the tessellation covers 0..467; 468..477 are the irises

# Points that move with the skull, not with expressions: forehead, nose bridge and tip, inner
# and outer eye corners, the face's sides at the temples and cheekbones.
STABLE = (
    10, 151, 9, 8, 168, 6, 197, 195, 5, 4, 1, 98, 327, 33, 133, 263, 362,
    127, 356, 234, 454, 93, 323, 108, 337,
)  # fmt: skip
FOREHEAD, CHIN, CHEEK_R, CHEEK_L = 10, 152, 234, 454
UPPER_LIP_INNER, LOWER_LIP_INNER = 13, 14
MOUTH_CORNERS = (61, 291)
NOSE_BOTTOM = 2


def face_width(lm: np.ndarray) -> float:
    """Distance between the cheek landmarks 234 and 454 (same units as ``lm``)."""
    return float(np.linalg.norm(lm[CHEEK_L] - lm[CHEEK_R]))


def face_height(lm: np.ndarray) -> float:
    """Distance from the forehead landmark 10 to the chin 152."""
    return float(np.linalg.norm(lm[CHIN] - lm[FOREHEAD]))


def lip_gap(lm: np.ndarray) -> float:
    """Distance between the inner lips' middles (13 upper, 14 lower): 0 for a closed mouth."""
    return float(np.linalg.norm(lm[LOWER_LIP_INNER] - lm[UPPER_LIP_INNER]))


def detect(image: np.ndarray) -> np.ndarray | None:
    """(478,3) float64 landmarks of the most prominent face in an (H,W,3) uint8 RGB image, in
    its pixels (z in x's pixel scale, larger = farther), or None when no face is found."""
    from engine.preprocess import mediapipe_graphs as mpg

    return mpg.face_mesh(np.ascontiguousarray(image[:, :, :3]))


def triangles() -> np.ndarray:
    """(T,3) int32 triangles of mediapipe's tessellation over landmarks 0..467."""
    from engine.preprocess import mediapipe_graphs as mpg

    return mpg.mesh_triangles()
