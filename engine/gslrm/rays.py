"""Per-pixel camera rays and GS-LRM's 9-channel input (spec §5.2).

Rays go through pixel centres: for row y and column x (0-based) the camera-space direction
is ((x+0.5-cx)/fx, (y+0.5-cy)/fy, 1), normalised, rotated into the world by c2w[:3,:3] and
normalised again; the origin is the camera centre c2w[:3,3].
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def pixel_rays(
    c2w: torch.Tensor, fxfycxcy: torch.Tensor, height: int, width: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """World rays of every pixel.

    c2w (..., 4, 4) float32 OpenCV camera-to-world; fxfycxcy (..., 4) float32 in pixels.
    Returns origins and unit directions, each (..., 3, H, W) float32.

    The rotation is a matmul, so under autocast it runs in reduced precision exactly like the
    reference's (spec §5.6b); the result is renormalised in float32.
    """
    device = c2w.device
    ys = torch.arange(height, device=device, dtype=torch.float32) + 0.5
    xs = torch.arange(width, device=device, dtype=torch.float32) + 0.5
    y, x = torch.meshgrid(ys, xs, indexing="ij")  # (H, W)
    k = fxfycxcy.float()[..., None, None]  # (..., 4, 1, 1)
    dx = (x - k[..., 2, :, :]) / k[..., 0, :, :]
    dy = (y - k[..., 3, :, :]) / k[..., 1, :, :]
    d_cam = torch.stack((dx, dy, torch.ones_like(dx)), dim=-3)  # (..., 3, H, W)
    d_cam = F.normalize(d_cam, dim=-3)
    rot = c2w[..., :3, :3].float()
    d_world = torch.matmul(rot, d_cam.flatten(-2)).float()  # (..., 3, H*W)
    d_world = F.normalize(d_world, dim=-2).unflatten(-1, (height, width))
    origin = c2w[..., :3, 3].float()[..., None, None].expand_as(d_world)
    return origin, d_world


def closest_points(origin: torch.Tensor, direction: torch.Tensor, dim: int = -3) -> torch.Tensor:
    """The point of each ray closest to the world origin: o - (o.d) d (unit d)."""
    return origin - (origin * direction).sum(dim=dim, keepdim=True) * direction


def network_input(images: torch.Tensor, origin: torch.Tensor, direction: torch.Tensor) -> torch.Tensor:
    """The 9 per-pixel channels: [2*rgb-1, d, o-(o.d)d].

    images (..., 3, H, W) float32 in [0,1]; origin, direction (..., 3, H, W).
    Returns (..., 9, H, W) float32.
    """
    return torch.cat((images * 2.0 - 1.0, direction, closest_points(origin, direction)), dim=-3)
