"""Real spherical harmonics -> RGB, as 3DGS evaluates them (degrees 0..3; 4 as gsplat does).

Colour of a Gaussian seen from direction d = normalize(centre - camera position):
max(0, 0.5 + sum_k basis_k(d) * coeff_k). The basis signs follow 3DGS / gsplat.
"""

from __future__ import annotations

import torch

from engine.sh import SH_C0, sh_bands

__all__ = ["sh_basis", "sh_to_rgb"]


def sh_basis(degree: int, dirs: torch.Tensor) -> torch.Tensor:
    """Basis values (N,(degree+1)^2) for unit directions dirs (N,3), same dtype/device
    (engine.sh.sh_bands after the constant band 0)."""
    x, y, z = dirs.unbind(-1)
    bands = sh_bands(x, y, z, degree)  # checks the degree
    return torch.stack([torch.full_like(x, SH_C0), *bands], dim=-1)


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
