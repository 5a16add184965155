"""Object framing: any subject (a mouse, a statue, a pet), no face needed.

The subject's mask -> centre its box on the canvas and scale it so the box's longer side is
``target_ratio`` x 512 (the domain-adaptation recipe's centre alignment, 0.6 by default) ->
composite on white.

The mask is the photo's own alpha when it has one. Otherwise it is a **GrabCut** matte (OpenCV's
graph-cut segmentation, seeded with the photo's border as background): it runs offline with
nothing to download and makes no assumption about what the subject is. mediapipe's selfie
segmentation (used for faces) only knows people, and learned matting models (rembg / U2-Net)
need a download of ~170 MB. GrabCut's limits: the subject should not touch the photo's border
and should stand out from a fairly plain background; give a photo with transparency otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from engine.errors import InputError

CANVAS = 512
MATTE_WORK_SIDE = 320
"""GrabCut runs on a copy whose longer side is at most this (its cost grows with the pixels)."""
MATTE_ITERATIONS = 5
MASK_THRESHOLD = 0.5
"""A pixel belongs to the subject when its matte is above this."""


@dataclass(frozen=True)
class ObjectFraming:
    """The framed subject.

    image: (512,512,3) uint8 RGB on white; alpha: (512,512) float32 in [0,1] (the matte, moved
    with the subject); box: (x0,y0,x1,y1) of the subject's mask in the photo (pixel edges);
    photo_to_image: (sx,sy,tx,ty), a photo pixel p lands at (p.x*sx+tx, p.y*sy+ty);
    matte: how the mask was made (one short sentence).
    """

    image: np.ndarray
    alpha: np.ndarray
    box: tuple[int, int, int, int]
    photo_to_image: tuple[float, float, float, float]
    matte: str


def grabcut_matte(rgb: np.ndarray) -> np.ndarray:
    """(H,W) float32 in [0,1]: GrabCut's subject mask of an (H,W,3) uint8 photo, the border
    (2 % of the shorter side) taken as background, the largest connected piece kept, edges
    softened by the upsampling from the working size. Deterministic (OpenCV's RNG is seeded)."""
    import cv2

    h, w = rgb.shape[:2]
    f = min(1.0, MATTE_WORK_SIDE / max(h, w))
    sw, sh = max(8, round(w * f)), max(8, round(h * f))
    small = cv2.resize(np.ascontiguousarray(rgb[:, :, ::-1]), (sw, sh), interpolation=cv2.INTER_AREA)
    margin = max(2, round(0.02 * min(sw, sh)))
    mask = np.zeros((sh, sw), np.uint8)
    bgd = np.zeros((1, 65), np.float64)
    fgd = np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(0)
    rect = (margin, margin, sw - 2 * margin, sh - 2 * margin)
    cv2.grabCut(small, mask, rect, bgd, fgd, MATTE_ITERATIONS, cv2.GC_INIT_WITH_RECT)
    fg = ((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(fg, connectivity=8)
    if count > 1:
        largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
        fg = (labels == largest).astype(np.uint8)
    up = cv2.resize(fg.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    return np.clip(up, 0.0, 1.0).astype(np.float32)


def mask_box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """(x0,y0,x1,y1) pixel-edge box of the True pixels of an (H,W) bool mask, or None."""
    ys = np.flatnonzero(mask.any(axis=1))
    xs = np.flatnonzero(mask.any(axis=0))
    if len(xs) == 0:
        return None
    return int(xs[0]), int(ys[0]), int(xs[-1]) + 1, int(ys[-1]) + 1


def _place(im: Image.Image, s: float, cx: float, cy: float, fill: int | tuple[int, ...]) -> Image.Image:
    """``im`` scaled by ``s`` about (cx, cy), which lands on the canvas centre (CANVAS square).

    Large reductions first box-average by an integer factor (exact coordinates: new = old / k)
    so that the bicubic resampling after it never skips pixels."""
    k = max(1, int(1.0 / s))
    if k > 1:
        im = im.reduce(k)
        s, cx, cy = s * k, cx / k, cy / k
    half = CANVAS / 2.0
    data = (1.0 / s, 0.0, cx - half / s, 0.0, 1.0 / s, cy - half / s)
    return im.transform(
        (CANVAS, CANVAS), Image.Transform.AFFINE, data, resample=Image.Resampling.BICUBIC, fillcolor=fill
    )


def frame_object(rgba: np.ndarray, target_ratio: float, name: str = "<image>") -> ObjectFraming:
    """Frame the subject of an (H,W,4) uint8 photo (see the module docstring).

    Raises InputError "<name>: no subject found ..." when the mask is empty.
    """
    if not 0.0 < target_ratio <= 1.0:
        raise InputError(f"object framing: target_ratio must be in (0, 1], got {target_ratio}")
    rgb = rgba[:, :, :3]
    if bool((rgba[:, :, 3] < 255).any()):
        matte = rgba[:, :, 3].astype(np.float32) / np.float32(255.0)
        how = "subject mask: the photo's own transparency"
    else:
        matte = grabcut_matte(rgb)
        how = "subject mask: GrabCut matte (OpenCV, the photo's border as background)"
    box = mask_box(matte > MASK_THRESHOLD)
    if box is None:
        raise InputError(f"{name}: no subject found (its mask is empty) — try --framing none")
    x0, y0, x1, y1 = box
    s = target_ratio * CANVAS / max(x1 - x0, y1 - y0)
    cx, cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0
    a = matte[:, :, None]
    on_white = np.clip(np.rint(rgb.astype(np.float32) * a + 255.0 * (1.0 - a)), 0, 255).astype(np.uint8)
    image = _place(Image.fromarray(on_white, "RGB"), s, cx, cy, (255, 255, 255))
    alpha8 = Image.fromarray(np.clip(np.rint(matte * 255.0), 0, 255).astype(np.uint8), "L")
    alpha = np.asarray(_place(alpha8, s, cx, cy, 0), dtype=np.float32) / np.float32(255.0)
    transform = (s, s, CANVAS / 2.0 - cx * s, CANVAS / 2.0 - cy * s)
    return ObjectFraming(np.asarray(image, dtype=np.uint8), alpha, box, transform, how)
