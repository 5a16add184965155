"""Colours for what the photo does not show: hair and skin statistics of the photo.

The back of the head above the chin takes the photo's hair colour (row by row, so a
gradient from crown to nape survives; skin for a bald head); below the chin the back of
neck and shoulders repeat the front's colours (clothes are mostly the same colour all round).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def _smooth_rows(values: np.ndarray, weights: np.ndarray, sigma: float) -> np.ndarray:
    """Weighted 1-D Gaussian smoothing of per-row colour (H,3) with per-row weights (H,)."""
    num = ndimage.gaussian_filter1d(values * weights[:, None], sigma, axis=0)
    den = ndimage.gaussian_filter1d(weights, sigma)[:, None]
    return np.asarray(num / np.maximum(den, 1e-6))


def skin_and_hair(
    rgb: np.ndarray, mask: np.ndarray, face: np.ndarray, chin_row: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(skin (3,), hair (3,), hair_mask (H,W)) from the photo.

    rgb (H,W,3) float in [0,1]; mask: foreground; face: mesh-covered pixels; chin_row: the
    chin's pixel row. Hair = foreground above the chin, outside the face, unlike skin.
    """
    core = ndimage.binary_erosion(face, iterations=6) if face.any() else face
    skin = np.median(rgb[core], axis=0) if core.sum() > 50 else np.array([0.78, 0.6, 0.5])
    rows = np.arange(rgb.shape[0])[:, None]
    candidates = mask & ~ndimage.binary_dilation(face, iterations=3) & (rows < chin_row)
    diff = np.linalg.norm(rgb - skin, axis=2)
    hair_mask = candidates & (diff > 0.12)
    hair = np.median(rgb[hair_mask], axis=0) if hair_mask.sum() > 200 else skin
    return skin, hair, hair_mask


def back_colors(
    rgb: np.ndarray, mask: np.ndarray, face: np.ndarray, chin_row: float, head_width_px: float
) -> np.ndarray:
    """(H,W,3) float [0,1] colour of the back surface seen through each front pixel."""
    _skin, hair, hair_mask = skin_and_hair(rgb, mask, face, chin_row)
    h = rgb.shape[0]
    counts = hair_mask.sum(axis=1).astype(np.float64)
    per_row = np.where(counts[:, None] > 0, (rgb * hair_mask[:, :, None]).sum(axis=1), 0.0) / np.maximum(
        counts[:, None], 1.0
    )
    rows_col = _smooth_rows(per_row, counts, sigma=12.0)
    rows_col = np.where(ndimage.gaussian_filter1d(counts, 12.0)[:, None] > 2.0, rows_col, hair)
    back_head = np.broadcast_to(rows_col[:, None, :], rgb.shape).copy()
    # Hair pixels keep their own (smoothed) colour: strands at the sides continue round.
    own = ndimage.gaussian_filter(rgb, (2.0, 2.0, 0.0))
    back_head = np.where(hair_mask[:, :, None], 0.5 * own + 0.5 * back_head, back_head)
    # Blend from the head's colours to the front's colours around the chin line.
    ramp_w = max(6.0, 0.15 * head_width_px)
    t = np.clip((np.arange(h) - chin_row) / ramp_w + 0.5, 0.0, 1.0)[:, None, None]
    body = ndimage.gaussian_filter(rgb, (3.0, 3.0, 0.0))
    return np.asarray(np.clip((1.0 - t) * back_head + t * body, 0.0, 1.0))
