"""Plain-numpy pieces of the renderer: the camera description, the result, uint8 conversion.

No torch here, so the GUI and the CLI can import these names cheaply.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engine.errors import InputError

NEAR_PLANE = 0.2
"""Gaussians whose view-space depth is <= this are culled (3DGS ``in_frustum``)."""

Background = Sequence[float] | np.ndarray


@dataclass(frozen=True)
class RenderResult:
    """One rendered image.

    rgb:   (H,W,3) float32, colour + T * background, NOT clamped (the reference's output).
    alpha: (H,W) float32 in [0,1], 1 - final transmittance.
    depth: (H,W) float32, alpha-normalised expected view-space depth
           sum(w_i * z_i) / alpha with w_i the blending weights and z_i the Gaussian centre's
           depth along the camera's forward axis; 0 where alpha == 0. (The reference
           rasteriser returns no depth; this is gsplat's "ED" convention.)
    backend: which rasteriser produced it ("torch-cpu", "torch-cuda" or "gsplat-cuda").
    """

    rgb: np.ndarray
    alpha: np.ndarray
    depth: np.ndarray
    backend: str


@dataclass(frozen=True)
class Camera:
    """A pinhole camera in OpenCV convention, checked and with its derived matrices.

    c2w: (4,4) float64 camera-to-world; w2c: (4,4) float64, its inverse (computed in float64).
    fx, fy, cx, cy: intrinsics in pixels for an image of width x height.
    """

    c2w: np.ndarray
    w2c: np.ndarray
    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int

    @classmethod
    def from_arrays(cls, c2w: np.ndarray, fxfycxcy: np.ndarray, width: int, height: int) -> Camera:
        """Validate (c2w (4,4), fxfycxcy (4,), width, height); raise InputError on bad input."""
        c2w64 = np.asarray(c2w, dtype=np.float64)
        k = np.asarray(fxfycxcy, dtype=np.float64).reshape(-1)
        if c2w64.shape != (4, 4):
            raise InputError(f"render: c2w must be a 4x4 matrix, got shape {c2w64.shape}")
        if k.shape != (4,):
            raise InputError(f"render: fxfycxcy must have 4 numbers, got {k.shape[0]}")
        if not (np.isfinite(c2w64).all() and np.isfinite(k).all()):
            raise InputError("render: camera values are not finite")
        if k[0] <= 0 or k[1] <= 0:
            raise InputError(f"render: focal lengths must be positive, got fx={k[0]:g} fy={k[1]:g}")
        if int(width) != width or int(height) != height or width < 1 or height < 1:
            raise InputError(f"render: image size must be positive integers, got {width}x{height}")
        try:
            w2c = np.linalg.inv(c2w64)
        except np.linalg.LinAlgError:
            raise InputError("render: c2w is not invertible") from None
        return cls(c2w64, w2c, float(k[0]), float(k[1]), float(k[2]), float(k[3]), int(width), int(height))

    @property
    def position(self) -> np.ndarray:
        """(3,) float64 camera centre in world coordinates."""
        return self.c2w[:3, 3].copy()

    @property
    def tan_fovx(self) -> float:
        """tan of half the horizontal field of view, W / (2 fx) (3DGS convention)."""
        return self.width / (2.0 * self.fx)

    @property
    def tan_fovy(self) -> float:
        return self.height / (2.0 * self.fy)


def check_background(background: Background) -> np.ndarray:
    """(3,) float32 background colour; InputError unless three finite numbers."""
    bg = np.asarray(background, dtype=np.float64).reshape(-1)
    if bg.shape != (3,) or not np.isfinite(bg).all():
        raise InputError(f"render: background must be three numbers (R,G,B in [0,1]), got {background!r}")
    return bg.astype(np.float32)


def to_uint8(rgb: np.ndarray) -> np.ndarray:
    """float image -> uint8 with the reference's rule floor(clip(x * 255, 0, 255)).

    rgb: any shape, float; returns the same shape, uint8.
    """
    x = np.asarray(rgb, dtype=np.float32) * np.float32(255.0)
    return np.floor(np.clip(x, 0.0, 255.0)).astype(np.uint8)
