"""Projection, 3D/2D covariances, conics and SH colours against gsplat's own pure-torch
reference functions (gsplat.cuda._torch_impl, which run on the CPU)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.cameras import facelift_cameras, turntable_cameras
from engine.geometry import look_at_c2w
from engine.render.projection import covariance_3d, prepare_gaussians, project
from engine.render.sh import sh_to_rgb
from engine.render.types import Camera

gs = pytest.importorskip("gsplat.cuda._torch_impl", reason="gsplat (the gpu/dev extra) is not installed")


def _unpack(cov6: torch.Tensor) -> torch.Tensor:
    xx, xy, xz, yy, yz, zz = cov6.unbind(-1)
    return torch.stack([xx, xy, xz, xy, yy, yz, xz, yz, zz], -1).reshape(-1, 3, 3)


def _cameras() -> list[Camera]:
    """FaceLift input cameras, an elevated turntable frame, and an off-axis look-at camera
    (all with the principal point at the image centre, where gsplat's Jacobian clamp and
    3DGS's coincide)."""
    cams = []
    fl = facelift_cameras(128)
    for i in (0, 2, 3):
        cams.append(Camera.from_arrays(fl.c2w[i], fl.fxfycxcy[i], 128, 128))
    tt = turntable_cameras(8, elevation_deg=25.0, size=96)
    cams.append(Camera.from_arrays(tt.c2w[3], tt.fxfycxcy[3], 96, 96))
    c2w = look_at_c2w(np.array([1.5, -2.0, 0.7]), np.array([0.2, 0.1, -0.1]), np.array([0.0, 0.0, 1.0]))
    cams.append(Camera.from_arrays(c2w, np.array([70.0, 90.0, 40.0, 30.0]), 80, 60))
    return cams


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_projection_matches_gsplat_reference(scene, dtype) -> None:
    g = scene(7, 600)
    # Spread some centres far outside the view so the Jacobian clamp is active.
    xyz = g.xyz.astype(np.float64) - np.array([0.0, 0.0, 2.5])
    xyz[:100] *= np.array([6.0, 6.0, 1.0])
    g = g.replace(xyz=xyz)
    prep = prepare_gaussians(g, "cpu", dtype=dtype)
    tol = {"rtol": 1e-5, "atol": 1e-5} if dtype == torch.float32 else {"rtol": 1e-10, "atol": 1e-10}

    covars, _ = gs._quat_scale_to_covar_preci(prep.quats, prep.scales, compute_preci=False)
    torch.testing.assert_close(_unpack(prep.cov3d), covars, **tol)

    clamp_active = 0
    for cam in _cameras():
        ours = project(prep, cam)
        viewmat = torch.as_tensor(cam.w2c, dtype=dtype)[None]
        k = torch.tensor([[cam.fx, 0, cam.cx], [0, cam.fy, cam.cy], [0, 0, 1]], dtype=dtype)[None]
        means_c, covars_c = gs._world_to_cam(prep.xyz, covars, viewmat)
        means2d, cov2d = gs._persp_proj(means_c, covars_c, k, cam.width, cam.height)
        _radii, _m2d, depths, conics, _ = gs._fully_fused_projection(
            prep.xyz, covars, viewmat, k, cam.width, cam.height, eps2d=0.3, near_plane=0.2
        )
        front = means_c[0, :, 2] > 0.2  # behind the camera both sides produce inf/garbage
        assert front.sum() > 300
        torch.testing.assert_close(ours.depth, depths[0], **tol)
        torch.testing.assert_close(ours.means2d[front], means2d[0][front], **tol)
        ref_cov = torch.stack([cov2d[0, :, 0, 0], cov2d[0, :, 0, 1], cov2d[0, :, 1, 1]], -1)
        scale = ref_cov[front].abs().amax(dim=1, keepdim=True).clamp_min(1.0)
        torch.testing.assert_close(ours.cov2d[front] / scale, ref_cov[front] / scale, **tol)
        cscale = conics[0][front].abs().amax(dim=1, keepdim=True)
        torch.testing.assert_close(ours.conic[front] / cscale, conics[0][front] / cscale, **tol)
        x_over_z = (means_c[0, :, 0] / means_c[0, :, 2]).abs()
        clamp_active += int((front & (x_over_z > 1.3 * cam.tan_fovx)).sum())
    assert clamp_active > 50, "the test should exercise the Jacobian's frustum clamp"


@pytest.mark.parametrize("degree", [0, 1, 2, 3, 4])
def test_sh_colours_match_gsplat_reference(scene, degree) -> None:
    g = scene(3, 400, sh_degree=degree)
    prep = prepare_gaussians(g, "cpu", dtype=torch.float64)
    campos = torch.tensor([0.3, -2.7, 0.4], dtype=torch.float64)
    ours = sh_to_rgb(prep.sh, prep.xyz, campos)
    ref = gs._spherical_harmonics(degree, prep.xyz - campos, prep.sh)
    torch.testing.assert_close(ours, torch.clamp_min(ref + 0.5, 0.0), rtol=1e-10, atol=1e-10)
    if degree > 0:  # view dependence is real: another camera gives other colours
        other = sh_to_rgb(prep.sh, prep.xyz, torch.tensor([2.7, 0.0, 0.0], dtype=torch.float64))
        assert (other - ours).abs().max() > 0.05


def test_covariance_of_rotated_anisotropic_gaussian() -> None:
    """A 90 deg rotation about z swaps the x and y variances."""
    s = torch.tensor([[0.3, 0.1, 0.05]], dtype=torch.float64)
    q = torch.tensor([[np.cos(np.pi / 4), 0, 0, np.sin(np.pi / 4)]], dtype=torch.float64)
    cov = _unpack(covariance_3d(q, s))[0]
    torch.testing.assert_close(torch.diagonal(cov), torch.tensor([0.01, 0.09, 0.0025], dtype=torch.float64))
    assert abs(float(cov[0, 1])) < 1e-12
