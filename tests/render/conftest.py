"""Fixtures for the renderer tests: small Gaussian sets and cameras built from plain numbers."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from engine.gaussians import Gaussians
from engine.sh import SH_C0

MakeGaussians = Callable[..., Gaussians]


def _make(
    xyz: np.ndarray,
    scales: np.ndarray | float = 0.01,
    colours: np.ndarray | tuple[float, float, float] = (0.5, 0.5, 0.5),
    opacity: np.ndarray | float = 0.9,
    quats: np.ndarray | None = None,
    sh_rest: np.ndarray | None = None,
) -> Gaussians:
    """Gaussians from activated values: colours (N,3) in [0,1] are turned into SH-DC."""
    xyz = np.atleast_2d(np.asarray(xyz, dtype=np.float64))
    n = len(xyz)
    sc = np.broadcast_to(np.asarray(scales, dtype=np.float64), (n, 3))
    col = np.broadcast_to(np.asarray(colours, dtype=np.float64), (n, 3))
    op = np.broadcast_to(np.asarray(opacity, dtype=np.float64), (n,))
    q = np.tile([1.0, 0.0, 0.0, 0.0], (n, 1)) if quats is None else np.asarray(quats)
    rest = np.zeros((n, 0, 3)) if sh_rest is None else sh_rest
    return Gaussians(
        xyz=xyz,
        sh_dc=(col - 0.5) / SH_C0,
        sh_rest=rest,
        log_scales=np.log(sc),
        quats=q,
        opacity_logits=np.log(op / (1.0 - op)),
    )


@pytest.fixture
def make_gaussians() -> MakeGaussians:
    """Factory: make_gaussians(xyz, scales=, colours=, opacity=, quats=, sh_rest=) -> Gaussians."""
    return _make


def camera_at_origin(width: int, height: int, f: float, cx: float | None = None, cy: float | None = None):
    """Identity c2w (looking down +z, OpenCV) and fxfycxcy; principal point at the centre by default."""
    k = np.array([f, f, width / 2 if cx is None else cx, height / 2 if cy is None else cy], dtype=np.float32)
    return np.eye(4, dtype=np.float32), k


@pytest.fixture
def origin_camera() -> Callable[..., tuple[np.ndarray, np.ndarray]]:
    """Factory: origin_camera(width, height, f, cx=None, cy=None) -> (c2w, fxfycxcy)."""
    return camera_at_origin


def random_scene(rng: np.random.Generator, n: int, sh_degree: int = 0) -> Gaussians:
    """n Gaussians in a box in front of an origin camera, random shapes, colours and opacities."""
    xyz = np.stack([rng.uniform(-1.2, 1.2, n), rng.uniform(-1.0, 1.0, n), rng.uniform(1.0, 4.0, n)], -1)
    k = (sh_degree + 1) ** 2 - 1
    return Gaussians(
        xyz=xyz,
        sh_dc=rng.normal(0, 1.2, (n, 3)),
        sh_rest=rng.normal(0, 0.3, (n, k, 3)),
        log_scales=rng.uniform(np.log(0.005), np.log(0.15), (n, 3)),
        quats=rng.normal(size=(n, 4)),
        opacity_logits=rng.normal(0.5, 2.0, n),
    )


@pytest.fixture
def scene() -> Callable[..., Gaussians]:
    """Factory: scene(seed, n, sh_degree=0) -> a random Gaussians set in front of the origin camera."""
    return lambda seed, n, sh_degree=0: random_scene(np.random.default_rng(seed), n, sh_degree)
