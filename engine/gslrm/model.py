"""The GS-LRM network (spec §5.3-5.6): views + rays -> per-pixel and global Gaussians.

Parameter names equal the released state-dict keys (spec §5.7), so a checkpoint loads with
``load_state_dict`` directly. Every Linear is bias-free and every LayerNorm weight-only
(eps 1e-5); the MLP uses exact (erf) GELU; attention goes through
``F.scaled_dot_product_attention`` (a fused kernel that never builds the (N, N) matrix).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from engine.gslrm.config import GSLRMConfig
from engine.gslrm.rays import network_input, pixel_rays

DEPTH_RANGE = 1.8
"""Pixel Gaussians sit within +-1.8 of the ray's closest approach to the origin (spec §5.5)."""
SCALE_SHIFT, SCALE_MAX = 2.3, -1.2
OPACITY_SHIFT = 2.0


def _layer_norm(d: int) -> nn.LayerNorm:
    return nn.LayerNorm(d, eps=1e-5, bias=False)


def patchify(x: torch.Tensor, patch: int) -> torch.Tensor:
    """(B, C, H, W) -> (B, (H/p)*(W/p), p*p*C): tokens row-major, features (row, col, channel)
    inside the patch with the channel fastest."""
    b, c, h, w = x.shape
    x = x.reshape(b, c, h // patch, patch, w // patch, patch)
    return x.permute(0, 2, 4, 3, 5, 1).reshape(b, (h // patch) * (w // patch), patch * patch * c)


class Patchify(nn.Module):
    """Parameter-free first stage of ``patch_embedder`` (it holds index 0 of the Sequential)."""

    def __init__(self, patch: int) -> None:
        super().__init__()
        self.patch = patch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return patchify(x, self.patch)


class SelfAttention(nn.Module):
    """Multi-head bidirectional softmax attention, scale 1/sqrt(d_head), no biases."""

    def __init__(self, d: int, d_head: int) -> None:
        super().__init__()
        self.d_head = d_head
        self.to_qkv = nn.Linear(d, 3 * d, bias=False)
        self.fc = nn.Linear(d, d, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        qkv = self.to_qkv(x).view(b, n, 3, d // self.d_head, self.d_head).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2])  # (B, heads, N, d_head)
        del qkv
        return self.fc(out.transpose(1, 2).reshape(b, n, d))


class MLP(nn.Module):
    def __init__(self, d: int, hidden: int) -> None:
        super().__init__()
        self.mlp = nn.Sequential(
            nn.Linear(d, hidden, bias=False), nn.GELU(approximate="none"), nn.Linear(hidden, d, bias=False)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mlp(x)


class TransformerBlock(nn.Module):
    """Pre-norm block: x + Attn(LN1(x)), then + MLP(LN2(x))."""

    def __init__(self, d: int, d_head: int) -> None:
        super().__init__()
        self.norm1 = _layer_norm(d)
        self.attn = SelfAttention(d, d_head)
        self.norm2 = _layer_norm(d)
        self.mlp = MLP(d, 4 * d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class GaussianUpsampler(nn.Module):
    """Head for the learned global Gaussians: LN -> Linear(d, 14)."""

    def __init__(self, d: int, n_params: int) -> None:
        super().__init__()
        self.layernorm = _layer_norm(d)
        self.linear = nn.Linear(d, n_params, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(self.layernorm(x))


@dataclass
class RawGaussians:
    """Network output for B samples, in Gaussian order (2 global, then patch-major pixels).

    xyz (B,N,3); features_dc (B,N,3); scaling_pre (B,N,3) log-scale, clamped at -1.2;
    rotation (B,N,4) raw (w,x,y,z); opacity_pre (B,N,1) logit. All float32.
    """

    xyz: torch.Tensor
    features_dc: torch.Tensor
    scaling_pre: torch.Tensor
    rotation: torch.Tensor
    opacity_pre: torch.Tensor


class GSLRM(nn.Module):
    """The GS-LRM reconstructor network."""

    def __init__(self, config: GSLRMConfig) -> None:
        super().__init__()
        self.config = config
        c = config
        p = c.patch_size
        self.gaussian_position_embeddings = nn.Parameter(torch.empty(c.n_gaussians, c.d))
        self.patch_embedder = nn.Sequential(Patchify(p), nn.Linear(p * p * c.in_channels, c.d, bias=False))
        self.input_layer_norm = _layer_norm(c.d)
        self.transformer_layers = nn.ModuleList(TransformerBlock(c.d, c.d_head) for _ in range(c.n_layer))
        self.gaussian_upsampler = GaussianUpsampler(c.d, c.params_per_gaussian)
        self.pixel_gaussian_decoder = nn.Sequential(
            _layer_norm(c.d), nn.Linear(c.d, p * p * c.params_per_gaussian, bias=False)
        )

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Random weights for tests and benchmarks (std 1/sqrt(fan_in); LN weights 1)."""
        for name, param in self.named_parameters():
            with torch.no_grad():
                if param.ndim == 1:
                    param.fill_(1.0)
                elif name == "gaussian_position_embeddings":
                    param.normal_(generator=generator)
                else:
                    param.normal_(std=param.shape[1] ** -0.5, generator=generator)

    def forward(
        self,
        images: torch.Tensor,
        c2w: torch.Tensor,
        fxfycxcy: torch.Tensor,
        between_layers: Callable[[int], None] | None = None,
    ) -> RawGaussians:
        """images (B,V,3,H,W) float in [0,1]; c2w (B,V,4,4); fxfycxcy (B,V,4) in pixels.

        H and W must be multiples of the patch size. ``between_layers(i)`` is called after
        transformer block i (for cancel checks and progress). Returns float32 RawGaussians
        with N = n_gaussians + V*H*W.
        """
        b, v, _, h, w = images.shape
        p = self.config.patch_size
        origin, direction = pixel_rays(c2w, fxfycxcy, h, w)  # (B,V,3,H,W) each
        x = network_input(images.float(), origin, direction).flatten(0, 1)  # (B*V, 9, H, W)
        tokens = self.patch_embedder(x).unflatten(0, (b, v)).flatten(1, 2)  # (B, V*T, d)
        del x
        glob = self.gaussian_position_embeddings.to(tokens.dtype).expand(b, -1, -1)
        x = self.input_layer_norm(torch.cat((glob, tokens), dim=1))
        del tokens, glob
        for i, block in enumerate(self.transformer_layers):
            x = block(x)
            if between_layers is not None:
                between_layers(i)
        n_glob = self.config.n_gaussians
        raw_glob = self.gaussian_upsampler(x[:, :n_glob]).float()  # (B, G, 14)
        raw_pix = self.pixel_gaussian_decoder(x[:, n_glob:]).float()  # (B, V*T, p*p*14)
        del x
        raw_pix = raw_pix.reshape(b, -1, self.config.params_per_gaussian)  # (B, V*T*p*p, 14)
        # Rays in the same patch-major order as the pixel Gaussians.
        ray_o = patchify(origin.flatten(0, 1), p).reshape(b, -1, 3)
        ray_d = patchify(direction.flatten(0, 1), p).reshape(b, -1, 3)
        return _to_gaussians(raw_glob, raw_pix, ray_o, ray_d)


def _to_gaussians(
    raw_glob: torch.Tensor, raw_pix: torch.Tensor, ray_o: torch.Tensor, ray_d: torch.Tensor
) -> RawGaussians:
    """Activations of spec §5.4-5.5. raw_* (B,n,14) float32; ray_o/ray_d (B,V*H*W,3)."""
    along = -(ray_o * ray_d).sum(dim=-1, keepdim=True)
    t = (2.0 * torch.sigmoid(raw_pix[..., 0:3].mean(dim=-1, keepdim=True)) - 1.0) * DEPTH_RANGE + along
    pix_xyz = ray_o + t * ray_d
    raw = torch.cat((raw_glob, raw_pix), dim=1)
    return RawGaussians(
        xyz=torch.cat((raw_glob[..., 0:3], pix_xyz), dim=1),
        features_dc=raw[..., 3:6],
        scaling_pre=torch.clamp_max(raw[..., 6:9] - SCALE_SHIFT, SCALE_MAX),
        rotation=raw[..., 9:13],
        opacity_pre=raw[..., 13:14] - OPACITY_SHIFT,
    )
