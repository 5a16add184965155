"""Gaussians -> screen space, with the original 3DGS rasteriser's rules (spec §6.4).

Pixel convention: pixel (i, j) has its centre at (i + 0.5, j + 0.5) and a projected centre
is (fx x/z + cx, fy y/z + cy). 3DGS writes both shifted by -0.5 (centres at integers,
``ndc2Pix``); the differences d = centre - pixel are the same.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from engine.gaussians import Gaussians
from engine.geometry import rotation_entries
from engine.render.sh import sh_to_rgb
from engine.render.types import NEAR_PLANE, Camera

TILE = 16
"""The reference rasteriser's tile size (BLOCK_X = BLOCK_Y = 16)."""
DILATION = 0.3
"""Low-pass filter added to the 2D covariance's diagonal."""
FRUSTUM_SLACK = 1.3
"""The Jacobian is evaluated at x/z, y/z clamped to 1.3 x tan(half fov)."""
ALPHA_MIN = 1.0 / 255.0
ALPHA_MAX = 0.99
T_MIN = 1e-4


@dataclass(frozen=True)
class PreparedGaussians:
    """Camera-independent tensors of a Gaussians set on one device (reuse across frames).

    xyz (N,3); cov3d (N,6) = Sigma_xx, xy, xz, yy, yz, zz; opacity (N,) in (0,1);
    scales (N,3) activated; quats (N,4) unit (w,x,y,z); sh (N,(d+1)^2,3) DC first.
    All float32 (or the dtype asked for) on ``device``.
    """

    xyz: torch.Tensor
    cov3d: torch.Tensor
    opacity: torch.Tensor
    scales: torch.Tensor
    quats: torch.Tensor
    sh: torch.Tensor

    @property
    def device(self) -> torch.device:
        """Where every tensor lives (the tensors say so themselves; no second copy to disagree)."""
        return self.xyz.device

    @property
    def sh_degree(self) -> int:
        return round(math.sqrt(self.sh.shape[1])) - 1

    def __len__(self) -> int:
        return int(self.xyz.shape[0])


def quat_to_rotmat(quats: torch.Tensor) -> torch.Tensor:
    """(N,4) unit quaternions (w,x,y,z) -> (N,3,3) rotation matrices (engine.geometry's formula)."""
    entries = rotation_entries(*quats.unbind(-1))
    return torch.stack(entries, dim=-1).reshape((*quats.shape[:-1], 3, 3))


def covariance_3d(quats: torch.Tensor, scales: torch.Tensor) -> torch.Tensor:
    """Sigma = R diag(s^2) R^T as (N,6) (xx, xy, xz, yy, yz, zz); quats unit (N,4), scales (N,3)."""
    m = quat_to_rotmat(quats) * scales[:, None, :]
    r0, r1, r2 = m[:, 0], m[:, 1], m[:, 2]
    return torch.stack(
        [
            (r0 * r0).sum(-1),
            (r0 * r1).sum(-1),
            (r0 * r2).sum(-1),
            (r1 * r1).sum(-1),
            (r1 * r2).sum(-1),
            (r2 * r2).sum(-1),
        ],
        dim=-1,
    )


def prepare_gaussians(
    gaussians: Gaussians, device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32
) -> PreparedGaussians:
    """Activate a Gaussians set (exp scales, unit quats, sigmoid opacity) onto ``device``."""
    dev = torch.device(device)

    def t(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.array(a, dtype=np.float32)).to(device=dev, dtype=dtype)

    # Activations in torch at the working precision (as 3DGS: exp, sigmoid, normalize).
    scales = torch.exp(t(gaussians.log_scales))
    raw_q = t(gaussians.quats)
    quats = raw_q / torch.linalg.vector_norm(raw_q, dim=-1, keepdim=True).clamp_min(1e-12)
    sh = torch.cat([t(gaussians.sh_dc)[:, None, :], t(gaussians.sh_rest)], dim=1)
    return PreparedGaussians(
        xyz=t(gaussians.xyz),
        cov3d=covariance_3d(quats, scales),
        opacity=torch.sigmoid(t(gaussians.opacity_logits)),
        scales=scales,
        quats=quats,
        sh=sh,
    )


@dataclass(frozen=True)
class Projected:
    """Per-Gaussian screen-space values for one camera (N = all Gaussians, culled ones too).

    means2d (N,2) px; cov2d (N,3) a,b,c of the 2D covariance BEFORE the 0.3 dilation;
    conic (N,3) inverse of the dilated covariance (a', b', c'); depth (N,) view-space z;
    radius (N,) int64 = ceil(3 sqrt(largest eigenvalue)); rect (N,4) int64 touched 16-px
    tiles [x0, y0, x1, y1) as 3DGS ``getRect``; colour (N,3) >= 0; opacity (N,);
    visible (N,) bool: in front of the near plane, invertible, touching a tile and able to
    reach alpha >= 1/255 somewhere.
    """

    means2d: torch.Tensor
    cov2d: torch.Tensor
    conic: torch.Tensor
    depth: torch.Tensor
    radius: torch.Tensor
    rect: torch.Tensor
    colour: torch.Tensor
    opacity: torch.Tensor
    visible: torch.Tensor


def project(prep: PreparedGaussians, cam: Camera) -> Projected:
    """EWA-project every Gaussian into ``cam`` (3DGS ``preprocessCUDA`` semantics)."""
    dtype, dev = prep.xyz.dtype, prep.device
    w2c = torch.as_tensor(cam.w2c, dtype=dtype, device=dev)
    rot, trans = w2c[:3, :3], w2c[:3, 3]
    p = prep.xyz @ rot.T + trans
    x, y, z = p.unbind(-1)
    fx, fy = cam.fx, cam.fy

    # Jacobian of the perspective map at the (frustum-clamped) centre.
    limx, limy = FRUSTUM_SLACK * cam.tan_fovx, FRUSTUM_SLACK * cam.tan_fovy
    tx = torch.clamp(x / z, -limx, limx) * z
    ty = torch.clamp(y / z, -limy, limy) * z
    j00, j11 = fx / z, fy / z
    j02, j12 = -fx * tx / (z * z), -fy * ty / (z * z)
    # Rows of T = J W: u = j00 W0 + j02 W2, v = j11 W1 + j12 W2.
    u = j00[:, None] * rot[0] + j02[:, None] * rot[2]
    v = j11[:, None] * rot[1] + j12[:, None] * rot[2]
    cov2d = torch.stack([_quad(prep.cov3d, u, u), _quad(prep.cov3d, u, v), _quad(prep.cov3d, v, v)], -1)

    a = cov2d[:, 0] + DILATION
    b = cov2d[:, 1]
    c = cov2d[:, 2] + DILATION
    det = a * c - b * b
    ok_det = det > 0
    safe_det = torch.where(ok_det, det, torch.ones_like(det))
    conic = torch.stack([c / safe_det, -b / safe_det, a / safe_det], dim=-1)
    mid = 0.5 * (a + c)
    lam1 = mid + torch.sqrt(torch.clamp_min(mid * mid - det, 0.1))
    radius = torch.ceil(3.0 * torch.sqrt(lam1))

    means2d = torch.stack([fx * x / z + cam.cx, fy * y / z + cam.cy], dim=-1)
    rect = _tile_rect(means2d - 0.5, radius, cam.width, cam.height)
    touches = (rect[:, 2] > rect[:, 0]) & (rect[:, 3] > rect[:, 1])

    campos = torch.as_tensor(cam.position, dtype=dtype, device=dev)
    colour = sh_to_rgb(prep.sh, prep.xyz, campos)
    visible = (z > NEAR_PLANE) & ok_det & touches & (prep.opacity >= ALPHA_MIN)
    return Projected(
        means2d=means2d,
        cov2d=cov2d,
        conic=conic,
        depth=z,
        radius=radius.to(torch.int64),
        rect=rect,
        colour=colour,
        opacity=prep.opacity,
        visible=visible,
    )


def _quad(cov: torch.Tensor, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """u^T Sigma v for (N,6) packed symmetric Sigma and (N,3) u, v."""
    sxx, sxy, sxz, syy, syz, szz = cov.unbind(-1)
    u0, u1, u2 = u.unbind(-1)
    v0, v1, v2 = v.unbind(-1)
    return (
        u0 * v0 * sxx
        + u1 * v1 * syy
        + u2 * v2 * szz
        + (u0 * v1 + u1 * v0) * sxy
        + (u0 * v2 + u2 * v0) * sxz
        + (u1 * v2 + u2 * v1) * syz
    )


def _tile_rect(p: torch.Tensor, radius: torch.Tensor, width: int, height: int) -> torch.Tensor:
    """3DGS ``getRect``: tiles [x0,y0,x1,y1) touched by the radius square around p (N,2).

    p uses the reference's pixel convention (centres at integers). Integer casts truncate
    toward zero, as C's (int) does.
    """
    grid = torch.tensor([(width + TILE - 1) // TILE, (height + TILE - 1) // TILE], device=p.device)
    lo_f = (p - radius[:, None]) / TILE
    hi_f = (p + radius[:, None] + (TILE - 1)) / TILE
    lo = torch.trunc(lo_f.clamp(-1e6, 1e6)).to(torch.int64)
    hi = torch.trunc(hi_f.clamp(-1e6, 1e6)).to(torch.int64)
    lo = torch.minimum(lo.clamp_min(0), grid)
    hi = torch.minimum(hi.clamp_min(0), grid)
    return torch.cat([lo, hi], dim=-1)
