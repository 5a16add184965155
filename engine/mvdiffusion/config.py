"""Reading the diffusion pipeline folder (``mvdiffusion/pipeckpts``) and its json files.

The released folder is written by FaceLift's ``save_pretrained``: its ``model_index.json``
names a custom UNet class (``UNetMV2DConditionModel``) that we never import. Its config.json
is a stock diffusers UNet config plus multi-view keys; :func:`unet_config` turns it into a
``UNet2DConditionModel`` config and a :class:`MultiViewSettings`, handling every multi-view
key explicitly (an unknown key or an unsupported flag is a :class:`WeightsError`).
"""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from engine.errors import WeightsError

AttentionMode = Literal["sparse", "dense", "per_view"]

COMPONENTS: tuple[str, ...] = (
    "unet",
    "vae",
    "image_encoder",
    "feature_extractor",
    "image_normalizer",
    "image_noising_scheduler",
    "scheduler",
)
"""Component folders needed at inference (tokenizer / text_encoder are not)."""

CONFIG_FILES: dict[str, str] = {
    "unet": "config.json",
    "vae": "config.json",
    "image_encoder": "config.json",
    "feature_extractor": "preprocessor_config.json",
    "image_normalizer": "config.json",
    "image_noising_scheduler": "scheduler_config.json",
    "scheduler": "scheduler_config.json",
}

# Multi-view block names -> the stock diffusers blocks with the same sub-module layout.
_BLOCK_MAP: dict[str, str] = {
    "CrossAttnDownBlockMV2D": "CrossAttnDownBlock2D",
    "UNetMidBlockMV2DCrossAttn": "UNetMidBlock2DCrossAttn",
    "CrossAttnUpBlockMV2D": "CrossAttnUpBlock2D",
}

# Keys written by diffusers' ConfigMixin itself.
_META_KEYS = {"_class_name", "_diffusers_version", "_name_or_path", "_use_default_values"}

# from_pretrained_2d keyword arguments that only matter for training-time initialisation.
_TRAINING_ONLY_KEYS = {"unclip", "zero_init_conv_in", "init_mvattn_with_selfattn"}

SUPPORTED_SELFATTN_BLOCKS = ("custom",)

RELEASED_UNET_SIZES: dict[str, Any] = {
    "block_out_channels": [320, 640, 1280, 1280],
    "attention_head_dim": [5, 10, 20, 20],
    "cross_attention_dim": 1024,
    "projection_class_embeddings_input_dim": 2048,
    "norm_num_groups": 32,
    "sample_size": 64,
}
"""The sizes of the released UNet config (SD2.1-unCLIP base, spec §4.1). Applied to a config
with the same multi-view keys, they give the released layout (benchmarks and tests use this
to build a full-size UNet without the weights)."""


@dataclass(frozen=True)
class MultiViewSettings:
    """How attn1 mixes the views of one group.

    num_views: views per group; the UNet batch is ``groups x num_views``, view fastest.
    attention: "sparse" (keys/values = view 0's tokens then the view's own; the released
        behaviour), "dense" (all views of the group) or "per_view" (plain self-attention).
    """

    num_views: int
    attention: AttentionMode


def read_json(path: Path) -> dict[str, Any]:
    """Read a json object; a missing or malformed file is a one-line :class:`WeightsError`."""
    if not path.is_file():
        raise WeightsError(f"{path}: file not found (incomplete diffusion weights folder)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WeightsError(f"{path}: not a readable json file ({exc})") from exc
    if not isinstance(data, dict):
        raise WeightsError(f"{path}: expected a json object")
    return data


def find_pipeline_dir(weights_dir: Path | str) -> Path:
    """The ``pipeckpts`` folder of a weights folder.

    Accepts the top weights folder (``<dir>/mvdiffusion/pipeckpts``), the ``mvdiffusion``
    folder, or the ``pipeckpts`` folder itself. Every component folder must exist.
    """
    root = Path(weights_dir)
    candidates = [root / "mvdiffusion" / "pipeckpts", root / "pipeckpts", root]
    pipe = next((c for c in candidates if (c / "model_index.json").is_file()), None)
    if pipe is None:
        raise WeightsError(
            f"{root / 'mvdiffusion' / 'pipeckpts' / 'model_index.json'}: file not found "
            "(not a FaceLift weights folder)"
        )
    read_json(pipe / "model_index.json")
    for name in COMPONENTS:
        folder = pipe / name
        if not folder.is_dir():
            raise WeightsError(f"{folder}: component folder missing from the diffusion weights")
        cfg = folder / CONFIG_FILES[name]
        if not cfg.is_file():
            raise WeightsError(f"{cfg}: file not found (incomplete component folder)")
    return pipe


def _unet2d_parameters() -> set[str]:
    from diffusers import UNet2DConditionModel

    params = set(inspect.signature(UNet2DConditionModel.__init__).parameters)
    return params - {"self"}


def unet_config(
    path: Path, attention: AttentionMode | None = None
) -> tuple[dict[str, Any], MultiViewSettings]:
    """Map the multi-view UNet config.json at ``path`` to a stock ``UNet2DConditionModel`` config.

    attention: override of the attn1 rule (e.g. "dense" for a comparison); ``None`` takes
        it from the flags (multiview_attention / sparse_mv_attention).
    Returns (config dict for ``UNet2DConditionModel.from_config``, multi-view settings).
    """
    raw = read_json(path)
    stock_keys = _unet2d_parameters()
    cfg: dict[str, Any] = {}
    mv: dict[str, Any] = {}
    mv_keys = {
        "num_views",
        "multiview_attention",
        "sparse_mv_attention",
        "selfattn_block",
        "cd_attention_last",
        "cd_attention_mid",
        "addition_downsample",
        "addition_channels",
    }
    for key, value in raw.items():
        if key in _META_KEYS or key in _TRAINING_ONLY_KEYS:
            continue
        if key in mv_keys:
            mv[key] = value
        elif key in stock_keys:
            cfg[key] = value
        else:
            raise WeightsError(f"{path}: unknown UNet config key '{key}' (not a supported FaceLift UNet)")

    for key in ("cd_attention_last", "cd_attention_mid", "addition_downsample"):
        if mv.get(key, False):
            raise WeightsError(
                f"{path}: unsupported UNet option {key}=true (FaceLift's released UNet has it off)"
            )
    # addition_channels only sizes the addition_downsample branch, which is off (checked above).
    block = mv.get("selfattn_block", "custom")
    if block not in SUPPORTED_SELFATTN_BLOCKS:
        raise WeightsError(f"{path}: unsupported selfattn_block '{block}' (supported: custom)")
    num_views = mv.get("num_views", 1)
    if not isinstance(num_views, int) or isinstance(num_views, bool) or num_views < 1:
        raise WeightsError(f"{path}: num_views must be a positive integer, got {num_views!r}")

    multiview = mv.get("multiview_attention", True)
    sparse = mv.get("sparse_mv_attention", False)
    if not isinstance(multiview, bool) or not isinstance(sparse, bool):
        raise WeightsError(f"{path}: multiview_attention / sparse_mv_attention must be true or false")
    if attention is None:
        attention = ("sparse" if sparse else "dense") if multiview else "per_view"

    for key in ("down_block_types", "up_block_types"):
        if key in cfg:
            cfg[key] = [_BLOCK_MAP.get(name, name) for name in cfg[key]]
    if "mid_block_type" in cfg and cfg["mid_block_type"] is not None:
        cfg["mid_block_type"] = _BLOCK_MAP.get(cfg["mid_block_type"], cfg["mid_block_type"])
    return cfg, MultiViewSettings(num_views=num_views, attention=attention)


def vae_scale_factor(vae_cfg: dict[str, Any]) -> int:
    """Pixel size of one latent cell: 2 ** (number of VAE blocks - 1)."""
    return int(2 ** (len(vae_cfg.get("block_out_channels", [0])) - 1))


# diffusers keys that take one value for all blocks or a list with one per block
_PER_BLOCK_KEYS = {
    "only_cross_attention",
    "layers_per_block",
    "cross_attention_dim",
    "transformer_layers_per_block",
    "attention_head_dim",
    "num_attention_heads",
}


def _type_problem(value: Any, default: Any, per_block: bool) -> str:
    """'' when ``value`` has the kind of value ``default`` implies; else what was expected.
    ``per_block``: a list of such values is accepted too."""

    def is_int(v: Any) -> bool:
        return isinstance(v, int) and not isinstance(v, bool)

    def is_list_of(v: Any, test: Any) -> bool:
        return isinstance(v, (list, tuple)) and len(v) > 0 and all(test(x) for x in v)

    if default is None or default is inspect.Parameter.empty:
        return ""
    if isinstance(default, bool):
        ok = isinstance(value, bool) or (per_block and is_list_of(value, lambda x: isinstance(x, bool)))
        return "" if ok else "true or false" + (" (or a list of them)" if per_block else "")
    if isinstance(default, int):
        ok = is_int(value) or (per_block and is_list_of(value, is_int))
        return "" if ok else "an integer" + (" (or a list of integers)" if per_block else "")
    if isinstance(default, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return "" if ok else "a number"
    if isinstance(default, str):
        return "" if value is None or isinstance(value, str) else "a string"
    if isinstance(default, tuple) and default:
        if all(isinstance(x, str) for x in default):
            return "" if is_list_of(value, lambda x: isinstance(x, str)) else "a list of names"
        if all(is_int(x) for x in default):
            return "" if is_list_of(value, is_int) else "a list of integers"
    return ""


def check_config_types(cls: Any, cfg: dict[str, Any], path: Path) -> None:
    """Raise a one-line WeightsError naming the file and the key when a value of a model config
    is not of the kind ``cls.__init__`` takes (e.g. ``"in_channels": "eight"``): the library
    would otherwise fail deep inside with an error that names neither."""
    params = inspect.signature(cls.__init__).parameters
    for key, value in cfg.items():
        if key not in params:
            continue
        expected = _type_problem(value, params[key].default, key in _PER_BLOCK_KEYS)
        if expected:
            shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
            raise WeightsError(f"{path}: '{key}' must be {expected}, got {shown}")


def _component_class(name: str) -> Any:
    if name == "unet":
        from diffusers import UNet2DConditionModel

        return UNet2DConditionModel
    if name == "vae":
        from diffusers import AutoencoderKL

        return AutoencoderKL
    if name == "image_normalizer":
        from diffusers.pipelines.stable_diffusion.stable_unclip_image_normalizer import (
            StableUnCLIPImageNormalizer,
        )

        return StableUnCLIPImageNormalizer
    return None


def component_config(name: str, path: Path) -> dict[str, Any]:
    """The config of diffusion component ``name`` read from ``path`` and checked the way the
    loader reads it (the UNet through :func:`unet_config`); value types are checked for the
    diffusers networks (unet, vae, image_normalizer). Raises a one-line WeightsError."""
    cfg = unet_config(path)[0] if name == "unet" else read_json(path)
    cls = _component_class(name)
    if cls is not None:
        check_config_types(cls, cfg, path)
    return cfg
