"""Exports: .splat, PLY in both flavours and both up conventions, PNG snapshots."""

from __future__ import annotations

import numpy as np
import pytest

from engine import geometry
from engine.api import InputError
from engine.cameras import view_camera
from engine.gaussians import Gaussians
from engine.io import export as ex
from engine.io.splat import RECORD_DTYPE, load_splat, save_splat, splat_order
from engine.sh import SH_C0


def random_gaussians(n: int = 300, degree: int = 0, seed: int = 0) -> Gaussians:
    rng = np.random.default_rng(seed)
    k = (degree + 1) ** 2 - 1
    return Gaussians(
        xyz=rng.uniform(-0.8, 0.8, (n, 3)),
        sh_dc=rng.normal(0, 0.8, (n, 3)),
        sh_rest=rng.normal(0, 0.3, (n, k, 3)),
        log_scales=rng.uniform(-5, -2, (n, 3)),
        quats=rng.normal(0, 1, (n, 4)) * rng.uniform(0.5, 2.0, (n, 1)),
        opacity_logits=rng.normal(0, 2, n),
    )


# ---- .splat ------------------------------------------------------------------------------


def test_splat_layout_sort_and_round_trip(tmp_path):
    g = random_gaussians(500)
    path = tmp_path / "head.splat"
    save_splat(g, path)
    raw = path.read_bytes()
    assert len(raw) == 32 * len(g)
    rec = np.frombuffer(raw, RECORD_DTYPE)
    order = splat_order(g)
    # sorted by -volume*opacity: the first record is the biggest, most opaque Gaussian
    key = np.prod(g.scales, axis=1) * g.opacities
    assert np.argmax(key) == order[0]
    assert np.all(np.diff(-key[order]) >= 0)
    np.testing.assert_array_equal(rec["xyz"], g.xyz[order])
    np.testing.assert_allclose(rec["scale"], g.scales[order], rtol=1e-6)
    # first record's bytes by hand
    i = order[0]
    rgb = np.clip((0.5 + SH_C0 * g.sh_dc[i]) * 255, 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(rec["rgba"][0, :3], rgb)
    assert rec["rgba"][0, 3] == np.uint8(g.opacities[i] * 255)
    q = g.quats[i] / np.linalg.norm(g.quats[i])
    np.testing.assert_array_equal(rec["rot"][0], np.clip(q * 128 + 128, 0, 255).astype(np.uint8))

    back = load_splat(path)
    assert len(back) == len(g) and back.sh_degree == 0
    np.testing.assert_array_equal(back.xyz, g.xyz[order])
    np.testing.assert_allclose(back.scales, g.scales[order], rtol=1e-5)
    colors = np.clip(g.colors[order], 0, 1)
    assert np.abs(np.clip(back.colors, 0, 1) - colors).max() <= 1 / 255 + 1e-6
    assert np.abs(back.opacities - g.opacities[order]).max() <= 1 / 255 + 1e-6
    dots = np.abs(np.sum(back.rotations * g.rotations[order], axis=1))
    assert dots.min() > 0.99  # the same orientation up to 8-bit quantisation


def test_splat_reader_rejects_a_file_that_is_not_splat(tmp_path):
    bad = tmp_path / "x.splat"
    bad.write_bytes(b"\0" * 33)
    with pytest.raises(InputError, match=r"x\.splat.*multiple of 32"):
        load_splat(bad)


def test_splat_export_y_up_rotates_positions(tmp_path):
    g = random_gaussians(50)
    ex.export_splat(g, tmp_path / "y.splat", up="y")
    back = load_splat(tmp_path / "y.splat")
    order = splat_order(g)
    np.testing.assert_allclose(back.xyz, g.xyz[order] @ ex.Y_UP_ROTATION.T, atol=1e-6)


# ---- y-up rotation -----------------------------------------------------------------------


def test_y_up_rotation_maps_facelift_axes():
    R = ex.Y_UP_ROTATION
    np.testing.assert_allclose(R @ [0, 0, 1], [0, 1, 0])  # FaceLift up -> y up
    np.testing.assert_allclose(R @ [0, -1, 0], [0, 0, 1])  # the face (toward -Y) -> toward +Z
    np.testing.assert_allclose(R @ [1, 0, 0], [1, 0, 0])
    assert np.isclose(np.linalg.det(R), 1.0)
    q = geometry.matrix_to_quat(R)
    np.testing.assert_allclose(q, [np.sqrt(0.5), -np.sqrt(0.5), 0, 0], atol=1e-12)
    np.testing.assert_allclose(geometry.quat_to_matrix(q), R, atol=1e-12)


def test_y_up_export_is_the_z_up_one_rotated_xyz_and_covariance():
    g = random_gaussians(400)
    y = ex.orient(g, "y")
    R = ex.Y_UP_ROTATION
    np.testing.assert_allclose(y.xyz, g.xyz @ R.T, atol=1e-6)
    cov_y = geometry.covariances(y.quats, y.scales)
    np.testing.assert_allclose(cov_y, R @ geometry.covariances(g.quats, g.scales) @ R.T, rtol=1e-5, atol=1e-9)
    np.testing.assert_array_equal(y.log_scales, g.log_scales)
    np.testing.assert_array_equal(y.opacity_logits, g.opacity_logits)
    np.testing.assert_array_equal(y.sh_dc, g.sh_dc)
    np.testing.assert_allclose(np.linalg.norm(y.quats, axis=1), np.linalg.norm(g.quats, axis=1), rtol=1e-5)
    assert ex.orient(g, "z") is g


@pytest.mark.parametrize("degree", [1, 2, 3])
def test_y_up_rotates_view_dependent_colour_with_the_head(degree):
    g = random_gaussians(40, degree=degree, seed=degree)
    y = ex.orient(g, "y")
    rng = np.random.default_rng(5)
    d = rng.normal(size=(100, 3))
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    R = ex.Y_UP_ROTATION
    before = np.einsum("mk,nkc->nmc", ex.sh_basis(d, degree), g.sh_rest.astype(np.float64))
    after = np.einsum("mk,nkc->nmc", ex.sh_basis(d @ R.T, degree), y.sh_rest.astype(np.float64))
    np.testing.assert_allclose(after, before, atol=1e-5)
    assert not np.allclose(y.sh_rest, g.sh_rest)  # really changed


def test_sh_rotation_of_an_arbitrary_rotation_preserves_band_energy():
    a = 0.7
    R = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]]) @ ex.Y_UP_ROTATION
    for D in ex.sh_rotation_matrices(R, 3):
        # orthonormal bands have orthogonal rotation matrices... up to the per-function constants
        assert np.isfinite(D).all() and abs(abs(np.linalg.det(D)) - 1.0) < 1e-6


def test_sh_degree_4_is_refused_with_a_clear_message():
    g = random_gaussians(5, degree=4)
    with pytest.raises(InputError, match="degree 4"):
        ex.orient(g, "y")


def test_unknown_up_axis_and_format_are_refused(tmp_path):
    g = random_gaussians(5)
    with pytest.raises(InputError, match="up axis"):
        ex.orient(g, "x")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="unknown export format"):
        ex.export_gaussians(g, tmp_path / "a.obj")


# ---- PLY (engine.io.ply) -----------------------------------------------------------------


@pytest.mark.parametrize("flavour", ["facelift", "inria"])
@pytest.mark.parametrize("up", ["z", "y"])
def test_ply_exports_re_read(tmp_path, flavour, up):
    from engine.io.ply import load_ply

    g = random_gaussians(200, degree=0 if flavour == "facelift" else 3)
    path = tmp_path / f"{flavour}-{up}.ply"
    ex.export_gaussians(g, path, up=up, flavour=flavour)
    back = load_ply(path)
    want = ex.orient(g, up)
    np.testing.assert_array_equal(back.xyz, want.xyz)
    np.testing.assert_array_equal(back.quats, want.quats)
    np.testing.assert_array_equal(back.log_scales, want.log_scales)
    np.testing.assert_array_equal(back.opacity_logits, want.opacity_logits)
    np.testing.assert_array_equal(back.sh_dc, want.sh_dc)
    if flavour == "inria":
        np.testing.assert_array_equal(back.sh_rest, want.sh_rest)


# ---- PNG snapshot ------------------------------------------------------------------------


def test_view_cameras():
    front = view_camera("front", 64)
    assert front.c2w.shape == (1, 4, 4) and front.width == 64
    np.testing.assert_allclose(front.centers[0], [0, -2.7, 0], atol=1e-5)
    for view, centre in [
        ("left", [2.7, 0, 0]),
        ("front_left", [1.909188, -1.909188, 0]),
        ("back", [0, 2.7, 0]),
    ]:
        np.testing.assert_allclose(view_camera(view, 64).centers[0], centre, atol=1e-5)
        np.testing.assert_allclose(
            view_camera(view, 64, 10.0).centers[0][:2],
            np.array(centre[:2]) * np.cos(np.deg2rad(10)),
            atol=1e-5,
        )
    with pytest.raises(InputError, match="unknown view"):
        view_camera("top")
