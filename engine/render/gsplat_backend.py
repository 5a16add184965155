"""The CUDA back end: gsplat 1.5.3 ``rasterization`` with settings chosen to match 3DGS.

Matching settings: eps2d 0.3 (the 0.3 dilation), rasterize_mode "classic" (no
antialiasing compensation), packed False, tile 16, near plane 0.2, no radius clip, SH
evaluated by gsplat from the camera position with +0.5 and a clamp at 0, white (or given)
background, expected depth ("ED").
Known remaining differences, all small: gsplat caps alpha at 0.999 (3DGS: 0.99) — we pass
opacities clamped to 0.99, which is exact wherever o <= 0.99; its tile footprint uses
per-axis 3.33-sigma extents cut by opacity (3DGS: a 3-sigma square of the largest
eigenvalue) and it stops at T <= 1e-4 (3DGS: < 1e-4); its Jacobian clamp uses the
principal point (equal to 3DGS when cx = W/2, cy = H/2, as for every FaceLift camera).
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from engine.render.projection import ALPHA_MAX, PreparedGaussians
from engine.render.types import NEAR_PLANE, Camera


@functools.cache
def gsplat_status() -> tuple[bool, str]:
    """(usable, reason): gsplat imports, CUDA is present and a one-Gaussian render runs."""
    if not torch.cuda.is_available():
        return False, "no CUDA device"
    try:
        import gsplat  # noqa: F401
    except Exception as exc:  # ImportError, or a broken CUDA extension build
        return False, f"gsplat does not import ({type(exc).__name__}: {exc})"
    try:
        dev = torch.device("cuda")
        prep = PreparedGaussians(
            xyz=torch.tensor([[0.0, 0.0, 2.0]], device=dev),
            cov3d=torch.tensor([[1e-4, 0, 0, 1e-4, 0, 1e-4]], device=dev),
            opacity=torch.tensor([0.9], device=dev),
            scales=torch.full((1, 3), 1e-2, device=dev),
            quats=torch.tensor([[1.0, 0, 0, 0]], device=dev),
            sh=torch.zeros(1, 1, 3, device=dev),
        )
        cam = Camera.from_arrays(np.eye(4), np.array([32.0, 32.0, 16.0, 16.0]), 32, 32)
        rasterize_gsplat(prep, cam, torch.ones(3, device=dev))
    except Exception as exc:  # the JIT build or the kernel launch failed
        return False, f"gsplat does not run ({type(exc).__name__}: {exc})"
    return True, "ok"


def rasterize_gsplat(
    prep: PreparedGaussians, cam: Camera, background: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """rgb (H,W,3), alpha (H,W), depth (H,W) on CUDA, float32."""
    from gsplat import rasterization

    dev = prep.device
    viewmat = torch.as_tensor(cam.w2c, dtype=torch.float32, device=dev)[None]
    k = torch.tensor(
        [[cam.fx, 0.0, cam.cx], [0.0, cam.fy, cam.cy], [0.0, 0.0, 1.0]], dtype=torch.float32, device=dev
    )[None]
    out, alpha, _meta = rasterization(
        means=prep.xyz,
        quats=prep.quats,
        scales=prep.scales,
        opacities=torch.clamp_max(prep.opacity, ALPHA_MAX),
        colors=prep.sh,
        viewmats=viewmat,
        Ks=k,
        width=cam.width,
        height=cam.height,
        near_plane=NEAR_PLANE,
        radius_clip=0.0,
        eps2d=0.3,
        sh_degree=prep.sh_degree,
        packed=False,
        tile_size=16,
        backgrounds=background[None].to(dev),
        render_mode="RGB+ED",
        rasterize_mode="classic",
        camera_model="pinhole",
    )
    return out[0, ..., :3], alpha[0, ..., 0], out[0, ..., 3]
