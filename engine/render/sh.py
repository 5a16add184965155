"""Real spherical harmonics -> RGB, as 3DGS evaluates them (degrees 0..3; 4 as gsplat does).

Colour of a Gaussian seen from direction d = normalize(centre - camera position):
max(0, 0.5 + sum_k basis_k(d) * coeff_k). The basis signs follow 3DGS / gsplat.
"""

from __future__ import annotations

import torch

from engine.sh_constants import SH_C0, SH_C1, SH_C2, SH_C3, SH_C4

__all__ = ["SH_C0", "SH_C1", "SH_C2", "SH_C3", "SH_C4", "sh_basis"]


def sh_basis(degree: int, dirs: torch.Tensor) -> torch.Tensor:
    """Basis values (N,(degree+1)^2) for unit directions dirs (N,3), same dtype/device."""
    if not 0 <= degree <= 4:
        raise ValueError(f"SH degree must be 0..4, got {degree}")
    x, y, z = dirs.unbind(-1)
    cols = [torch.full_like(x, SH_C0)]
    if degree >= 1:
        cols += [-SH_C1 * y, SH_C1 * z, -SH_C1 * x]
    if degree >= 2:
        xx, yy, zz = x * x, y * y, z * z
        xy, yz, xz = x * y, y * z, x * z
        cols += [
            SH_C2[0] * xy,
            SH_C2[1] * yz,
            SH_C2[2] * (2.0 * zz - xx - yy),
            SH_C2[3] * xz,
            SH_C2[4] * (xx - yy),
        ]
    if degree >= 3:
        cols += [
            SH_C3[0] * y * (3.0 * xx - yy),
            SH_C3[1] * xy * z,
            SH_C3[2] * y * (4.0 * zz - xx - yy),
            SH_C3[3] * z * (2.0 * zz - 3.0 * xx - 3.0 * yy),
            SH_C3[4] * x * (4.0 * zz - xx - yy),
            SH_C3[5] * z * (xx - yy),
            SH_C3[6] * x * (xx - 3.0 * yy),
        ]
    if degree >= 4:
        cols += [
            SH_C4[0] * xy * (xx - yy),
            SH_C4[1] * yz * (3.0 * xx - yy),
            SH_C4[2] * xy * (7.0 * zz - 1.0),
            SH_C4[3] * yz * (7.0 * zz - 3.0),
            SH_C4[4] * (zz * (35.0 * zz - 30.0) + 3.0),
            SH_C4[5] * xz * (7.0 * zz - 3.0),
            SH_C4[6] * (xx - yy) * (7.0 * zz - 1.0),
            SH_C4[7] * xz * (xx - 3.0 * yy),
            SH_C4[8] * (xx * (xx - 3.0 * yy) - yy * (3.0 * xx - yy)),
        ]
    return torch.stack(cols, dim=-1)


def sh_to_rgb(coeffs: torch.Tensor, xyz: torch.Tensor, campos: torch.Tensor) -> torch.Tensor:
    """View-dependent colour (N,3) = max(0, 0.5 + SH(d) . coeffs), d = normalize(xyz - campos).

    coeffs: (N,(degree+1)^2,3) with the DC term first; xyz: (N,3); campos: (3,).
    """
    n_coeffs = coeffs.shape[1]
    degree = round(n_coeffs**0.5) - 1
    if degree == 0:
        raw = SH_C0 * coeffs[:, 0, :]
    else:
        d = xyz - campos
        d = d / torch.linalg.vector_norm(d, dim=-1, keepdim=True)
        raw = torch.einsum("nk,nkc->nc", sh_basis(degree, d), coeffs)
    return torch.clamp_min(raw + 0.5, 0.0)
