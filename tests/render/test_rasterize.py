"""The torch rasteriser: analytic footprints, occlusion, background, culling, degenerate
Gaussians, and a whole-image comparison with an independent per-pixel numpy transcription
of the 3DGS algorithm."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from reference_3dgs import reference_render

from engine.api import InputError
from engine.gaussians import Gaussians
from engine.geometry import look_at_c2w
from engine.render import available_backends, render, resolve_backend
from engine.render.projection import prepare_gaussians, project
from engine.render.torch_raster import rasterize
from engine.render.types import Camera

BLACK = (0.0, 0.0, 0.0)


def _torch(g, c2w, k, w, h, bg=(1.0, 1.0, 1.0), **kw):
    cam = Camera.from_arrays(c2w, k, w, h)
    proj = project(prepare_gaussians(g), cam)
    rgb, alpha, depth = rasterize(proj, w, h, torch.tensor(bg, dtype=torch.float32), **kw)
    return rgb.numpy(), alpha.numpy(), depth.numpy()


@pytest.mark.parametrize(("seed", "n", "size"), [(0, 400, (56, 40)), (1, 1500, (64, 64)), (2, 60, (33, 17))])
def test_matches_independent_reference(scene, origin_camera, seed, n, size) -> None:
    w, h = size
    g = scene(seed, n)
    c2w, k = origin_camera(w, h, f=0.9 * w)
    ref_rgb, ref_alpha = reference_render(g, c2w, k, w, h, (0.2, 0.5, 0.9))
    rgb, alpha, _ = _torch(g, c2w, k, w, h, (0.2, 0.5, 0.9))
    assert ref_alpha.max() > 0.9 and (ref_alpha < 0.5).any(), (
        "scene should have both covered and empty pixels"
    )
    # Float summation order differs; a threshold decision can flip on a rare pixel.
    err = np.abs(rgb - ref_rgb).max(axis=-1)
    assert np.quantile(err, 0.999) < 1e-4, err.max()
    assert np.abs(alpha - ref_alpha).mean() < 1e-5


def test_chunking_and_subtiles_do_not_change_the_image(scene, origin_camera) -> None:
    """Sub-tile size and step budget are implementation choices: results must not depend on
    them (transmittance and "done" are carried across chunks)."""
    g = scene(5, 1500)
    c2w, k = origin_camera(64, 48, f=50.0)
    base = _torch(g, c2w, k, 64, 48)
    for subtile, budget in [(16, 1 << 22), (4, 1 << 14), (8, 1 << 12)]:
        other = _torch(g, c2w, k, 64, 48, subtile=subtile, step_budget=budget)
        for a, b in zip(base, other):
            np.testing.assert_allclose(a, b, atol=1e-5)


def test_single_gaussian_footprint_is_the_analytic_one(make_gaussians, origin_camera) -> None:
    # sigma_px^2 = (f s / z)^2 + 0.3 = 100 -> sigma 10 px; centre on pixel (40, 40)'s centre.
    f, z, o = 60.0, 2.0, 0.95
    s = math.sqrt(99.7) * z / f
    g = make_gaussians([[0.0, 0.0, z]], scales=s, colours=(1.0, 0.0, 0.0), opacity=o)
    c2w, k = origin_camera(96, 96, f, cx=40.5, cy=40.5)
    res = render(g, c2w, k, 96, 96, background=BLACK, backend="torch-cpu")
    a = res.alpha
    assert a[40, 40] == pytest.approx(o, rel=1e-5)
    assert a[40, 50] == pytest.approx(o * math.exp(-0.5), rel=1e-4)  # 1 sigma
    assert a[60, 40] == pytest.approx(o * math.exp(-2.0), rel=1e-4)  # 2 sigma
    assert a[50, 50] == pytest.approx(o * math.exp(-1.0), rel=1e-4)  # diagonal, r^2 = 2 sigma^2
    # 32 px is outside the radius ceil(3 sqrt(100 + sqrt(0.1))) = 31 but inside a touched
    # 16-px tile: 3DGS still blends it there, since alpha = o e^-5.12 > 1/255.
    assert a[40, 72] == pytest.approx(o * math.exp(-5.12), rel=1e-4)
    assert a[40, 74] == 0.0  # o e^-5.78 < 1/255: skipped
    np.testing.assert_allclose(res.rgb[..., 0], a, atol=1e-6)  # red on black: R = alpha
    assert np.abs(res.rgb[..., 1:]).max() == 0.0
    assert res.depth[40, 40] == pytest.approx(z, rel=1e-6)
    assert res.backend == "torch-cpu"
    # Opacity above 0.99 is capped at the centre.
    g = make_gaussians([[0.0, 0.0, z]], scales=s, opacity=0.9999)
    assert render(g, c2w, k, 96, 96, backend="torch-cpu").alpha[40, 40] == pytest.approx(0.99, rel=1e-6)


def test_near_gaussian_occludes_far_one_whatever_the_order(make_gaussians, origin_camera) -> None:
    xyz = [[0.0, 0.0, 2.0], [0.0, 0.0, 3.0]]
    c2w, k = origin_camera(32, 32, 30.0, cx=16.5, cy=16.5)
    for order in ([0, 1], [1, 0]):
        g = make_gaussians(
            np.array(xyz)[order],
            scales=0.2,
            colours=np.array([[1, 0, 0], [0, 0, 1]], float)[order],
            opacity=0.95,
        )
        res = render(g, c2w, k, 32, 32, background=BLACK, backend="torch-cpu")
        r, _g, b = res.rgb[16, 16]
        assert r == pytest.approx(0.95, abs=1e-5)
        assert b == pytest.approx(0.05 * 0.95, abs=1e-5)
        assert res.depth[16, 16] == pytest.approx((0.95 * 2 + 0.0475 * 3) / 0.9975, abs=1e-5)


def test_background_and_empty_set(origin_camera) -> None:
    c2w, k = origin_camera(24, 20, 20.0)
    for bg in [(1.0, 1.0, 1.0), (0.2, 0.4, 0.6)]:
        res = render(Gaussians.empty(), c2w, k, 24, 20, background=bg, backend="torch-cpu")
        assert res.rgb.shape == (20, 24, 3) and res.rgb.dtype == np.float32
        np.testing.assert_array_equal(res.rgb, np.broadcast_to(np.float32(bg), (20, 24, 3)))
        assert not res.alpha.any() and not res.depth.any()
    default = render(Gaussians.empty(), c2w, k, 24, 20)
    assert (default.rgb == 1.0).all(), "the default background is white"


def test_gaussians_behind_camera_or_near_plane_are_culled(make_gaussians, origin_camera) -> None:
    c2w, k = origin_camera(32, 32, 30.0)
    for z in (-2.0, -0.1, 0.0, 0.1, 0.2):
        g = make_gaussians([[0.0, 0.0, z]], scales=0.05, colours=(0, 0, 0), opacity=0.99)
        res = render(g, c2w, k, 32, 32, backend="torch-cpu")
        assert (res.rgb == 1.0).all() and not res.alpha.any(), f"z={z} should be culled"
    res = render(
        make_gaussians([[0.0, 0.0, 0.25]], scales=0.05, opacity=0.99), c2w, k, 32, 32, backend="torch-cpu"
    )
    assert res.alpha.max() > 0.9


def test_degenerate_thin_gaussians_render_finite(make_gaussians, origin_camera) -> None:
    c2w, k = origin_camera(32, 32, 30.0)
    flat = make_gaussians(
        [[0.0, 0.0, 2.0]], scales=np.array([1e-9, 0.2, 0.2]), colours=(0, 1, 0), opacity=0.9
    )
    # A needle pointing at the camera: its footprint is only the 0.3 px^2 dilation.
    needle = make_gaussians([[0.0, 0.0, 2.0]], scales=np.array([1e-9, 1e-9, 0.5]), opacity=0.9)
    res_flat = render(flat, c2w, k, 32, 32, backend="torch-cpu")
    res_needle = render(needle, c2w, k, 32, 32, backend="torch-cpu")
    for res in (res_flat, res_needle):
        assert np.isfinite(res.rgb).all() and np.isfinite(res.alpha).all() and np.isfinite(res.depth).all()
    # The flat disc seen face-on is only ~1 px wide along x but tall along y.
    cols = (res_flat.alpha > 0.1).any(axis=0).sum()
    rows = (res_flat.alpha > 0.1).any(axis=1).sum()
    assert cols <= 3 and rows > 10
    # The needle: centre pixel alpha = 0.9 exp(-0.5 d^T conic d) with conic = I / 0.3, d = 0.5.
    assert res_needle.alpha[16, 16] == pytest.approx(0.9 * math.exp(-0.5 * (0.25 + 0.25) / 0.3), rel=1e-4)


def test_view_dependent_sh_colour(make_gaussians) -> None:
    """Degree-1 SH: the colour depends on the direction from the camera, as 3DGS evaluates it."""
    rest = np.zeros((1, 3, 3))
    rest[0, 2] = [1.0, 0.0, 0.0]  # coefficient 3 multiplies -C1 * x (direction's x)
    g = make_gaussians([[0.0, 0.0, 0.0]], scales=0.3, colours=(0.5, 0.5, 0.5), opacity=0.99, sh_rest=rest)
    k = np.array([30.0, 30.0, 16.5, 16.5])

    reds = []
    for pos in ([3.0, 0.0, 0.0], [-3.0, 0.0, 0.0]):
        c2w = look_at_c2w(np.array(pos), np.zeros(3), np.array([0.0, 0.0, 1.0]))
        reds.append(render(g, c2w, k, 32, 32, background=BLACK, backend="torch-cpu").rgb[16, 16, 0])
    c1 = 0.4886025119029199
    # From +x the direction to the Gaussian is -x: red = 0.5 + C1 (then times alpha ~ 0.99).
    assert reds[0] == pytest.approx((0.5 + c1) * 0.99, abs=2e-3)
    assert reds[1] == pytest.approx((0.5 - c1) * 0.99, abs=2e-3)


def test_saturated_stack_stops_at_the_transmittance_floor(make_gaussians, origin_camera) -> None:
    """100 layers of alpha 0.95: T = 0.05^3 after three; the fourth would take T below 1e-4,
    so it and everything behind it (green) is not blended."""
    z = np.linspace(2.0, 3.0, 100)
    colours = np.where((np.arange(100) < 3)[:, None], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0])
    g = make_gaussians(np.stack([0 * z, 0 * z, z], -1), scales=0.3, colours=colours, opacity=0.95)
    c2w, k = origin_camera(32, 32, 30.0, cx=16.5, cy=16.5)
    res = render(g, c2w, k, 32, 32, background=BLACK, backend="torch-cpu")
    r, gr, _b = res.rgb[16, 16]
    assert r == pytest.approx(0.95 * (1 + 0.05 + 0.05**2), abs=1e-5)
    assert gr == 0.0
    assert res.alpha[16, 16] == pytest.approx(1 - 0.05**3, abs=1e-6)
    assert res.rgb[..., 1].max() > 0.01, "the green layers do show around the red ones"


def test_backends_and_bad_input(origin_camera) -> None:
    backs = available_backends()
    assert backs[-1] == "torch-cpu"
    assert resolve_backend("auto") == backs[0]
    if not torch.cuda.is_available():
        assert backs == ["torch-cpu"]
        with pytest.raises(InputError, match="gsplat backend is not available here: no CUDA"):
            render(Gaussians.empty(), *origin_camera(8, 8, 8.0), 8, 8, backend="gsplat")
    with pytest.raises(InputError, match="unknown backend"):
        resolve_backend("opengl")
    c2w, k = origin_camera(8, 8, 8.0)
    with pytest.raises(InputError, match="4x4"):
        render(Gaussians.empty(), c2w[:3], k, 8, 8)
    with pytest.raises(InputError, match="focal"):
        render(Gaussians.empty(), c2w, np.array([0.0, 1.0, 4.0, 4.0]), 8, 8)
    with pytest.raises(InputError, match="background"):
        render(Gaussians.empty(), c2w, k, 8, 8, background=(1.0, 1.0))
    with pytest.raises(InputError, match="image size"):
        render(Gaussians.empty(), c2w, k, 0, 8)


def test_a_frame_of_large_gaussians_is_listed_region_by_region_with_the_same_image(
    make_gaussians, origin_camera, monkeypatch
) -> None:
    """Large Gaussians make many (sub-tile, Gaussian) pairs, ~40 bytes each while they are
    listed: a 1.5 M-Gaussian frame of them took > 22 GB and was killed. Over the pair budget
    the frame is listed and blended in regions that each fit it, and the image is the same."""
    import engine.render.torch_raster as raster

    rng = np.random.default_rng(7)
    n = 300
    g = make_gaussians(
        np.stack([rng.uniform(-0.8, 0.8, n), rng.uniform(-0.8, 0.8, n), rng.uniform(2.0, 3.0, n)], -1),
        scales=np.full((n, 3), 0.25),
        colours=rng.uniform(0, 1, (n, 3)),
        opacity=np.full(n, 0.3),
    )
    c2w, k = origin_camera(96, 80, f=90.0)
    whole = _torch(g, c2w, k, 96, 80)

    listed: list[int] = []
    real_pairs = raster._pairs

    def spy(lo, hi, region):
        pair_g, counts, starts = real_pairs(lo, hi, region)
        listed.append(len(pair_g))
        return pair_g, counts, starts

    monkeypatch.setattr(raster, "_pairs", spy)
    total = _torch(g, c2w, k, 96, 80, pair_budget=1 << 30)
    assert len(listed) == 1
    all_pairs = listed.pop()
    budget = all_pairs // 7
    parts = _torch(g, c2w, k, 96, 80, pair_budget=budget)
    assert len(listed) > 7 and max(listed) <= budget, listed
    assert sum(listed) == all_pairs  # every pair listed exactly once
    for a, b, c in zip(whole, total, parts):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(a, c, atol=1e-5)  # the chunks sum in another order
    assert whole[1].mean() > 0.9  # the frame is covered: the regions had work to do

    # A budget below one sub-tile's list: single sub-tiles are the floor, the image is the same.
    listed.clear()
    tiny = _torch(g, c2w, k, 96, 80, pair_budget=1)
    assert len(listed) > 100  # cut down to (nearly) single sub-tiles
    np.testing.assert_allclose(whole[0], tiny[0], atol=1e-5)
