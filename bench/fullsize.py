"""The released FaceLift networks at full size with random weights, for benchmarks (no download).

Sizes: the multi-view UNet from the conformance UNet config (same multi-view keys) with the
released SD2.1-unCLIP sizes (engine.mvdiffusion.config.RELEASED_UNET_SIZES, 870 M parameters);
the SD2.x VAE (84 M); OpenCLIP ViT-H/14's vision tower with its 1024-wide projection (632 M);
GS-LRM's released config (d 1024, 24 layers). ``device="meta"`` builds them without memory
(to count FLOPs); otherwise the weights are N(0, 0.02) (LayerNorm/GroupNorm weights 1), which
is enough to time them: the work does not depend on the values.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import torch

REPO = Path(__file__).resolve().parent.parent

VAE_CONFIG: dict[str, Any] = {
    "in_channels": 3,
    "out_channels": 3,
    "down_block_types": ["DownEncoderBlock2D"] * 4,
    "up_block_types": ["UpDecoderBlock2D"] * 4,
    "block_out_channels": [128, 256, 512, 512],
    "layers_per_block": 2,
    "act_fn": "silu",
    "latent_channels": 4,
    "norm_num_groups": 32,
    "sample_size": 768,
    "scaling_factor": 0.18215,
}
"""Stable Diffusion 2.x's AutoencoderKL (the VAE of SD2.1-unCLIP)."""

CLIP_VISION_CONFIG: dict[str, Any] = {
    "hidden_size": 1280,
    "intermediate_size": 5120,
    "num_hidden_layers": 32,
    "num_attention_heads": 16,
    "patch_size": 14,
    "image_size": 224,
    "projection_dim": 1024,
    "hidden_act": "gelu",
    "layer_norm_eps": 1e-5,
}
"""OpenCLIP ViT-H/14's vision tower (SD2.1-unCLIP's image encoder)."""


def conformance_dir() -> Path:
    from engine.conformance import reference_dir

    return reference_dir()


def unet_config_dir(folder: Path) -> Path:
    """Write the full-size multi-view UNet config.json into ``folder`` and return it."""
    from engine.mvdiffusion.config import RELEASED_UNET_SIZES

    cfg = json.loads((conformance_dir() / "mvdiffusion" / "pipeckpts" / "unet" / "config.json").read_text())
    cfg.update(RELEASED_UNET_SIZES)
    (folder / "config.json").write_text(json.dumps(cfg))
    return folder


def randomise(module: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """N(0, 0.02) weights, norm weights 1 and biases 0; eval mode, no gradients."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in module.named_parameters():
            if p.ndim == 1:
                p.fill_(1.0 if name.endswith("weight") else 0.0)
            else:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.02)
    return module.eval().requires_grad_(False)


def _materialise(module: torch.nn.Module, device: str, dtype: torch.dtype, seed: int) -> torch.nn.Module:
    if device == "meta":
        return module.to(dtype=dtype).eval().requires_grad_(False)
    module = module.to_empty(device="cpu")
    randomise(module, seed)
    return module.to(device=device, dtype=dtype)


def full_unet(device: str = "cpu", dtype: torch.dtype = torch.float32, attention: str | None = None) -> Any:
    """The multi-view UNet with FaceLift's attn1 processor (sparse unless ``attention`` says)."""
    from engine.mvdiffusion.loading import build_unet, make_multiview

    with tempfile.TemporaryDirectory() as tmp:
        unet, settings = build_unet(unet_config_dir(Path(tmp)), attention)  # type: ignore[arg-type]
    unet = _materialise(unet, device, dtype, 0)
    make_multiview(unet, settings)
    return unet


def full_vae(device: str = "cpu", dtype: torch.dtype = torch.float32) -> Any:
    from diffusers import AutoencoderKL

    with torch.device("meta"):
        vae = AutoencoderKL.from_config(VAE_CONFIG)
    return _materialise(vae, device, dtype, 1)


def full_clip(device: str = "cpu", dtype: torch.dtype = torch.float32) -> Any:
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    with torch.device("meta"):
        enc = CLIPVisionModelWithProjection(CLIPVisionConfig(**CLIP_VISION_CONFIG))
    enc = _materialise(enc, device, dtype, 2)
    if device != "meta":  # position ids are a buffer that to_empty left uninitialised
        n = enc.vision_model.embeddings.position_ids.shape[-1]
        enc.vision_model.embeddings.position_ids.copy_(torch.arange(n, device=device)[None])
    return enc


def full_gslrm(device: str = "cpu") -> Any:
    from engine.gslrm.checkpoint import build_model
    from engine.gslrm.config import GSLRMConfig

    model = build_model(GSLRMConfig(), "meta")
    if device == "meta":
        return model.eval().requires_grad_(False)
    model = model.to_empty(device="cpu")
    model.reset_parameters(torch.Generator().manual_seed(3))
    return model.eval().requires_grad_(False).to(device)


def count_flops(fn: Any) -> float:
    """FLOPs of the matmuls, convolutions and attention ``fn()`` runs (torch's FlopCounterMode;
    one multiply-add = 2 FLOPs). Run it on meta tensors to count without computing."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter, torch.inference_mode():
        fn()
    return float(counter.get_total_flops())
