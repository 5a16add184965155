"""Building the diffusion components from a ``pipeckpts`` folder with stock library classes.

Each network is built from its json config with its parameters on the meta device (no random
init), then its tensors are read with safetensors (or a ``.bin`` through
``torch.load(weights_only=True)``) and loaded strictly. Any mismatch is a one-line
:class:`engine.api.WeightsError` that names the file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from engine.errors import WeightsError
from engine.mvdiffusion.config import (
    AttentionMode,
    MultiViewSettings,
    check_config_types,
    find_pipeline_dir,
    read_json,
    unet_config,
    vae_scale_factor,
)
from engine.weights.files import load_file, load_state_dict, shape_mismatch, shapes_of

DIFFUSERS_WEIGHTS = ("diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.bin")
TRANSFORMERS_WEIGHTS = ("model.safetensors", "pytorch_model.bin")
PROMPT_EMBEDS_KEY = "prompt_embeds"


@dataclass
class DiffusionComponents:
    """Everything the sampler needs, on ``device`` in ``dtype`` (unless offloaded).

    prompt_embeds: (num_views, 77, cross_attention_dim) as stored (fp16 for the release).
    resolution: pipeline image size in pixels (unet.sample_size * VAE factor).
    """

    unet: Any
    vae: Any
    image_encoder: Any
    feature_extractor: Any
    image_normalizer: Any
    noising_scheduler: Any
    scheduler: Any
    settings: MultiViewSettings
    prompt_embeds: torch.Tensor
    prompt_embeds_source: Path
    resolution: int
    dtype: torch.dtype


def weights_file(folder: Path, names: tuple[str, ...]) -> Path:
    """The first existing weight file of a component folder."""
    for name in names:
        if (folder / name).is_file():
            return folder / name
    raise WeightsError(f"{folder / names[0]}: file not found (component weights missing)")


def read_tensors(path: Path) -> dict[str, torch.Tensor]:
    """All tensors of a .safetensors or .bin/.pt file (data only, nothing unpickled)."""
    return load_state_dict(path)


def check_state_dict(model: torch.nn.Module, tensors: dict[str, torch.Tensor], path: Path) -> None:
    """Raise a one-line WeightsError unless ``tensors`` has exactly the model's keys and shapes."""
    problems = shape_mismatch(shapes_of(tensors), shapes_of(model.state_dict()))
    if problems:
        raise WeightsError(f"{path}: weights do not match its config: {problems}")


def build_empty(factory: Callable[[], torch.nn.Module], config_path: Path) -> torch.nn.Module:
    """Build a module with meta parameters (buffers stay real); config errors name the file."""
    from accelerate import init_empty_weights

    try:
        with init_empty_weights():
            return factory()
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise WeightsError(f"{config_path}: unusable config ({' '.join(str(exc).split())[:160]})") from exc


def load_weights(model: torch.nn.Module, path: Path) -> torch.nn.Module:
    """Strictly load the tensors of ``path`` into a (meta-built) model and return it in eval mode."""
    tensors = read_tensors(path)
    check_state_dict(model, tensors, path)
    model.load_state_dict(tensors, strict=True, assign=True)
    return model.eval().requires_grad_(False)


def build_unet(folder: Path, attention: AttentionMode | None = None) -> tuple[Any, MultiViewSettings]:
    """The multi-view UNet as a stock UNet2DConditionModel with meta parameters (no weights)."""
    from diffusers import UNet2DConditionModel

    cfg_path = folder / "config.json"
    cfg, settings = unet_config(cfg_path, attention)
    check_config_types(UNet2DConditionModel, cfg, cfg_path)
    unet = build_empty(lambda: UNet2DConditionModel.from_config(cfg), cfg_path)
    return unet, settings


def load_unet(folder: Path, attention: AttentionMode | None = None) -> tuple[Any, MultiViewSettings]:
    """Build the UNet from ``folder`` and load its weights, then make it multi-view."""
    unet, settings = build_unet(folder, attention)
    load_weights(unet, weights_file(folder, DIFFUSERS_WEIGHTS))
    make_multiview(unet, settings)
    return unet, settings


def make_multiview(unet: Any, settings: MultiViewSettings) -> None:
    """attn1 gets the multi-view processor (engine.mvdiffusion.attention); the feed-forwards run
    on row chunks (engine.mvdiffusion.feedforward: same values, a fraction of the memory)."""
    from engine.mvdiffusion.attention import install_multiview_attention
    from engine.mvdiffusion.feedforward import chunk_feed_forwards

    install_multiview_attention(unet, settings.num_views, settings.attention)
    chunk_feed_forwards(unet)


def load_diffusers_model(cls: Any, folder: Path) -> Any:
    """A diffusers ModelMixin class built from ``folder/config.json`` with the folder's weights."""
    cfg_path = folder / "config.json"
    cfg = read_json(cfg_path)
    check_config_types(cls, cfg, cfg_path)
    model = build_empty(lambda: cls.from_config(cfg), cfg_path)
    return load_weights(model, weights_file(folder, DIFFUSERS_WEIGHTS))


def load_vae(folder: Path) -> Any:
    from diffusers import AutoencoderKL

    return load_diffusers_model(AutoencoderKL, folder)


def load_image_encoder(folder: Path) -> Any:
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    cfg_path = folder / "config.json"
    cfg = CLIPVisionConfig.from_dict(read_json(cfg_path))
    enc = build_empty(lambda: CLIPVisionModelWithProjection(cfg), cfg_path)
    return load_weights(enc, weights_file(folder, TRANSFORMERS_WEIGHTS))


def load_image_normalizer(folder: Path) -> Any:
    from diffusers.pipelines.stable_diffusion.stable_unclip_image_normalizer import (
        StableUnCLIPImageNormalizer,
    )

    return load_diffusers_model(StableUnCLIPImageNormalizer, folder)


def load_feature_extractor(folder: Path) -> Any:
    from transformers import CLIPImageProcessor

    cfg_path = folder / "preprocessor_config.json"
    try:
        return CLIPImageProcessor.from_dict(read_json(cfg_path))
    except (ValueError, TypeError, KeyError) as exc:
        raise WeightsError(f"{cfg_path}: unusable image processor config ({exc})") from exc


def load_scheduler(folder: Path, kind: str) -> Any:
    """kind: "ddim" (denoising) or "ddpm" (image-embedding noising)."""
    from diffusers import DDIMScheduler, DDPMScheduler

    cfg_path = folder / "scheduler_config.json"
    cfg = read_json(cfg_path)
    cls = DDIMScheduler if kind == "ddim" else DDPMScheduler
    try:
        sched = cls.from_config(cfg)
    except (ValueError, TypeError, KeyError, NotImplementedError) as exc:
        raise WeightsError(f"{cfg_path}: unusable scheduler config ({exc})") from exc
    if kind == "ddim":
        if sched.config.thresholding:
            raise WeightsError(f"{cfg_path}: unsupported scheduler option thresholding=true")
        if sched.config.prediction_type not in ("v_prediction", "epsilon", "sample"):
            raise WeightsError(f"{cfg_path}: unsupported prediction_type {sched.config.prediction_type}")
    return sched


def resources_dir() -> Path:
    """The repository's resources/ folder (shipped prompt embeddings, cameras)."""
    return Path(__file__).resolve().parent.parent.parent / "resources"


def find_prompt_embeds(pipe_dir: Path) -> Path:
    """Weights-folder override (mvdiffusion/clr_embeds.safetensors or .pt) or the shipped file."""
    from engine.weights.model_folder import PROMPT_EMBEDS_NAMES, SHIPPED_PROMPT_EMBEDS

    for name in PROMPT_EMBEDS_NAMES:
        candidate = pipe_dir.parent / name
        if candidate.is_file():
            return candidate
    return SHIPPED_PROMPT_EMBEDS


def load_prompt_embeds(path: Path, num_views: int, width: int) -> torch.Tensor:
    """(num_views, L, width) prompt embeddings, dtype as stored."""
    if not path.is_file():
        raise WeightsError(f"{path}: prompt embeddings file not found")
    if path.suffix == ".safetensors":
        tensors = read_tensors(path)
        if PROMPT_EMBEDS_KEY not in tensors:
            raise WeightsError(f"{path}: no '{PROMPT_EMBEDS_KEY}' tensor in the file")
        embeds = tensors[PROMPT_EMBEDS_KEY]
    else:
        embeds = load_file(path)
        if not isinstance(embeds, torch.Tensor):
            raise WeightsError(f"{path}: expected a bare tensor of prompt embeddings")
    if embeds.ndim != 3 or embeds.shape[0] != num_views or embeds.shape[2] != width:
        raise WeightsError(
            f"{path}: prompt embeddings have shape {tuple(embeds.shape)}, "
            f"expected ({num_views}, L, {width}) for this UNet"
        )
    return embeds


def load_components(
    weights_dir: Path | str,
    dtype: torch.dtype = torch.float32,
    attention: AttentionMode | None = None,
) -> DiffusionComponents:
    """Load every component of the pipeline folder on the CPU in ``dtype`` (placement is later)."""
    pipe = find_pipeline_dir(weights_dir)
    unet, settings = load_unet(pipe / "unet", attention)
    vae = load_vae(pipe / "vae")
    encoder = load_image_encoder(pipe / "image_encoder")
    normalizer = load_image_normalizer(pipe / "image_normalizer")
    for model in (unet, vae, encoder, normalizer):
        # nn.Module.to directly: StableUnCLIPImageNormalizer overrides .to() with other kwargs.
        torch.nn.Module.to(model, dtype=dtype)
    vae_cfg = read_json(pipe / "vae" / "config.json")
    embeds_path = find_prompt_embeds(pipe)
    embeds = load_prompt_embeds(embeds_path, settings.num_views, int(unet.config.cross_attention_dim))
    proj_dim = int(encoder.config.projection_dim)
    class_dim = unet.config.projection_class_embeddings_input_dim
    if unet.config.class_embed_type != "projection" or class_dim != 2 * proj_dim:
        raise WeightsError(
            f"{pipe / 'unet' / 'config.json'}: class embedding must be a projection of "
            f"2 x {proj_dim} (CLIP embedding + noise level), found {class_dim}"
        )
    sample_size = unet.config.sample_size
    return DiffusionComponents(
        unet=unet,
        vae=vae,
        image_encoder=encoder,
        feature_extractor=load_feature_extractor(pipe / "feature_extractor"),
        image_normalizer=normalizer,
        noising_scheduler=load_scheduler(pipe / "image_noising_scheduler", "ddpm"),
        scheduler=load_scheduler(pipe / "scheduler", "ddim"),
        settings=settings,
        prompt_embeds=embeds,
        prompt_embeds_source=embeds_path,
        resolution=int(sample_size) * vae_scale_factor(vae_cfg),
        dtype=dtype,
    )
