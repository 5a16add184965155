"""Drivers with known motion, made from a face photo by exact transforms (no external video).

- turned heads: a rigged head rendered after a known yaw about its pivot (engine.animate.deform);
- an open mouth: the photo's lower face pulled down by a known number of pixels below the upper
  lip's inner edge (a smooth bump across the mouth, widest at its middle), the gap painted as a
  dark mouth.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import ndimage

UPPER_INNER = 13
CORNERS = (61, 291)
MOUTH_DARK = (60, 20, 25)


def open_mouth(image: np.ndarray, landmarks: np.ndarray, opening_px: float) -> np.ndarray:
    """(H,W,3) uint8: ``image`` with the mouth opened by ``opening_px`` at its middle.

    landmarks: (478,3) the image's face mesh. Below the upper lip's inner edge every pixel comes
    from ``shift(x)`` higher, shift = opening_px * w(x), w a cosine bump across the mouth's
    corners, extended over 0.6 mouth widths on each side so the jaw moves as one; the band
    uncovered between the lips is painted dark.
    """
    h, w = image.shape[:2]
    y_lip = float(landmarks[UPPER_INNER, 1])
    xl, xr = sorted(float(landmarks[i, 0]) for i in CORNERS)
    xc, half = 0.5 * (xl + xr), 0.5 * (xr - xl)
    xs = np.arange(w) + 0.5
    t = np.clip(np.abs(xs - xc) / (1.6 * half), 0.0, 1.0)
    bump = 0.5 * (1.0 + np.cos(np.pi * t))  # 1 at the middle, 0 beyond the reach
    shift = opening_px * bump  # (W,)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    below = yy + 0.5 > y_lip
    src_y = np.where(below, yy - shift[None, :], yy)
    gap = below & (src_y + 0.5 < y_lip)  # rows that would come from above the lip line
    out = np.empty_like(image)
    for c in range(3):
        out[:, :, c] = ndimage.map_coordinates(
            image[:, :, c].astype(np.float64), [src_y, xx], order=1, mode="nearest"
        ).round()
    inside = gap & (np.abs(xx + 0.5 - xc) < half)
    out[inside] = MOUTH_DARK
    return out


def write_video(frames: list[np.ndarray], path: Path, fps: float = 25.0) -> Path:
    """Frames (H,W,3) uint8 -> an MP4 (engine.io.video)."""
    from engine.io.video import write_video as encode

    return encode(iter(frames), path, fps)
