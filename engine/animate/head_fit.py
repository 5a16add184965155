"""The head's own 478 landmarks in the FaceLift world, from its preprocessed input photo.

The input photo (512x512, what the engine reconstructed from) is seen by FaceLift's front camera,
so each landmark's pixel is known; its depth comes from the Gaussians: the front camera's
rendered depth at that pixel. Where the Gaussians do not cover a landmark (alpha < 0.5) its depth
is mediapipe's relative z, shifted to agree with the covered ones. Works the same for both
engines' heads (the instant head's surface is the rendered one).
"""

from __future__ import annotations

import numpy as np

from engine.animate.landmarks import COUNT, STABLE, detect
from engine.errors import InputError
from engine.gaussians import Gaussians

COVERED_ALPHA = 0.5
FIT_SIZE = 512


def fit_head_landmarks(image: np.ndarray, gaussians: Gaussians, name: str = "head") -> np.ndarray:
    """(478,3) float64 world landmarks of the head reconstructed from ``image``.

    image: the preprocessed input, (S,S,3) uint8 RGB seen by the FaceLift front camera (any S;
    resized to 512). Raises InputError (naming ``name``) when no face is found in it.
    """
    from engine.cameras import facelift_cameras
    from engine.io.images import resize_square
    from engine.render import render

    img = np.asarray(image, dtype=np.uint8)[:, :, :3]
    if img.shape[0] != FIT_SIZE or img.shape[1] != FIT_SIZE:
        img = resize_square(img, FIT_SIZE)
    lm = detect(img)
    if lm is None:
        raise InputError(f"{name}: no face found in its input photo, so it cannot be rigged")
    cams = facelift_cameras(FIT_SIZE)
    c2w = cams.c2w[0].astype(np.float64)
    fx, fy, cx, cy = (float(v) for v in cams.fxfycxcy[0])
    mid = float(np.linalg.norm(c2w[:3, 3]))
    res = render(gaussians, c2w, cams.fxfycxcy[0], FIT_SIZE, FIT_SIZE, backend="torch-cpu")
    px = np.clip(np.round(lm[:, :2] - 0.5).astype(int), 0, FIT_SIZE - 1)
    alpha = res.alpha[px[:, 1], px[:, 0]]
    rendered = res.depth[px[:, 1], px[:, 0]].astype(np.float64)
    covered = alpha > COVERED_ALPHA
    # mediapipe's z: head centre 0, in x's pixel scale -> camera depth around the mid-plane.
    relative = lm[:, 2] * mid / fx
    if covered.sum() >= len(STABLE):
        offset = float(np.median(rendered[covered] - relative[covered]))
    else:  # almost nothing rendered where the face is: put the face's middle on the mid-plane
        offset = mid - float(np.median(relative))
    depth = np.where(covered, rendered, relative + offset)
    cam = np.stack([(lm[:, 0] - cx) / fx * depth, (lm[:, 1] - cy) / fy * depth, depth], axis=1)
    world = cam @ c2w[:3, :3].T + c2w[:3, 3]
    assert world.shape == (COUNT, 3)
    return np.asarray(world, dtype=np.float64)
