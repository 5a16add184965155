"""Measures of an instant head that a user would notice (used by the tests and bench/).

* ``front_psnr``: how well the input camera's render reproduces the photo over its foreground.
* ``silhouette_coverage``: how closed a view is -- the share of its filled silhouette that is
  actually opaque (holes and see-through gaps lower it).
* ``needle_fraction``: the share of Gaussians drawn out into needles (longest axis more than
  NEEDLE_RATIO times the middle one). Seen from the side such needles are the streaks of the
  old relief head; flat surface discs have two similar long axes and score 0.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from engine.gaussians import Gaussians

NEEDLE_RATIO = 3.0
FOREGROUND_ALPHA = 0.5


def front_psnr(render_rgb: np.ndarray, image: np.ndarray, alpha: np.ndarray | None) -> float:
    """PSNR (dB) over the foreground (matte > 0.5, everything when ``alpha`` is None).

    render_rgb (H,W,3) float in [0,1] (a RenderResult.rgb); image (H,W,3) uint8 (the
    preprocessed input); alpha (H,W) float in [0,1].
    """
    fg = np.ones(image.shape[:2], bool) if alpha is None else np.asarray(alpha) > FOREGROUND_ALPHA
    diff = np.clip(np.asarray(render_rgb, np.float64), 0.0, 1.0) * 255.0 - image.astype(np.float64)
    mse = float((diff**2)[fg].mean())
    return float(10.0 * np.log10(255.0**2 / max(mse, 1e-12)))


def silhouette_coverage(alpha: np.ndarray) -> float:
    """Share in [0,1] of the filled silhouette (holes filled) of a rendered alpha (H,W) that
    has alpha > 0.5."""
    solid = np.asarray(alpha) > FOREGROUND_ALPHA
    filled = ndimage.binary_fill_holes(solid)
    if not filled.any():
        return 0.0
    return float(solid[filled].mean())


def needle_fraction(g: Gaussians) -> float:
    """Share in [0,1] of Gaussians whose longest axis exceeds NEEDLE_RATIO x the middle one."""
    if len(g) == 0:
        return 0.0
    s = np.sort(np.exp(np.asarray(g.log_scales, np.float64)), axis=1)
    return float((s[:, 2] > NEEDLE_RATIO * s[:, 1]).mean())


def grid_amplitude(patch: np.ndarray) -> float:
    """Amplitude (same units as the patch, e.g. [0,1] colour) of the strongest pattern that
    repeats every two pixels along x, y or both -- the discs' spacing when the front view is
    magnified 2x, i.e. a screen door. patch (H,W) grey, H and W even. Shading is removed first
    (a 5 px box filter), and a Hann window keeps the patch's border out of the spectrum; a
    pure A cos(pi x) pattern gives A."""
    p = np.asarray(patch, np.float64)
    p = p - ndimage.uniform_filter(p, 5, mode="nearest")
    h, w = p.shape
    win = np.outer(np.hanning(h), np.hanning(w))
    spec = np.abs(np.fft.fft2(p * win))
    return float(max(spec[h // 2, 0], spec[0, w // 2], spec[h // 2, w // 2]) / win.sum())
