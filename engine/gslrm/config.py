"""GS-LRM hyper-parameters: the released defaults, optionally overridden by a FaceLift yaml.

The released checkpoint comes with FaceLift's ``configs/gslrm.yaml``; a weights folder may
carry a copy (``gslrm/*.yaml``) whose ``model`` section overrides the defaults. Only the
keys an inference engine needs are read (spec §5.1).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from engine.errors import WeightsError

PARAMS_PER_GAUSSIAN_SH0 = 14
"""xyz 3 + SH-DC 3 + log-scale 3 + rotation 4 + opacity 1."""

# yaml path (under ``model``) -> GSLRMConfig field
_YAML_KEYS: dict[tuple[str, str], str] = {
    ("transformer", "d"): "d",
    ("transformer", "d_head"): "d_head",
    ("transformer", "n_layer"): "n_layer",
    ("image_tokenizer", "image_size"): "image_size",
    ("image_tokenizer", "patch_size"): "patch_size",
    ("image_tokenizer", "in_channels"): "in_channels",
    ("gaussians", "n_gaussians"): "n_gaussians",
    ("gaussians", "sh_degree"): "sh_degree",
}


@dataclass(frozen=True)
class GSLRMConfig:
    """Network sizes. Defaults are the released FaceLift model (spec §5.1).

    d: token width; d_head: width of one attention head (heads = d // d_head);
    n_layer: transformer blocks; image_size: the view size the model was trained at (the
    network accepts any size divisible by patch_size); patch_size: square patch side in px;
    in_channels: per-pixel input channels (always 9: RGB, ray direction, closest point);
    n_gaussians: learned global Gaussians; sh_degree: SH degree of the colours (0 only).
    """

    d: int = 1024
    d_head: int = 64
    n_layer: int = 24
    image_size: int = 512
    patch_size: int = 8
    in_channels: int = 9
    n_gaussians: int = 2
    sh_degree: int = 0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{f.name} must be a non-negative integer, got {value!r}")
        for name in ("d", "d_head", "n_layer", "image_size", "patch_size"):
            if getattr(self, name) == 0:
                raise ValueError(f"{name} must be positive")
        if self.d % self.d_head:
            raise ValueError(f"d={self.d} is not a multiple of d_head={self.d_head}")
        if self.in_channels != 9:
            raise ValueError(f"in_channels must be 9 (RGB, ray direction, ray point), got {self.in_channels}")
        if self.sh_degree != 0:
            raise ValueError(f"only sh_degree 0 is supported, got {self.sh_degree}")

    @property
    def n_heads(self) -> int:
        return self.d // self.d_head

    @property
    def params_per_gaussian(self) -> int:
        return PARAMS_PER_GAUSSIAN_SH0


def config_from_mapping(data: Any, source: str) -> GSLRMConfig:
    """Defaults overridden by a FaceLift-schema mapping (``{"model": {...}}``).

    Raises WeightsError naming ``source`` when the mapping or a value is unusable.
    """
    if not isinstance(data, dict):
        raise WeightsError(f"{source}: not a yaml mapping")
    model = data.get("model", {})
    if not isinstance(model, dict):
        raise WeightsError(f"{source}: 'model' is not a mapping")
    overrides: dict[str, Any] = {}
    for (section, key), name in _YAML_KEYS.items():
        block = model.get(section, {})
        if not isinstance(block, dict):
            raise WeightsError(f"{source}: 'model.{section}' is not a mapping")
        if key in block:
            value = block[key]
            if isinstance(value, bool) or not isinstance(value, int):
                raise WeightsError(f"{source}: model.{section}.{key} must be an integer, got {value!r}")
            overrides[name] = value
    try:
        return replace(GSLRMConfig(), **overrides)
    except ValueError as exc:
        raise WeightsError(f"{source}: {exc}") from exc


def load_config(yaml_path: Path | None) -> GSLRMConfig:
    """The config for a checkpoint: defaults, or ``yaml_path`` applied over them."""
    if yaml_path is None:
        return GSLRMConfig()
    import yaml

    try:
        data = yaml.safe_load(yaml_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise WeightsError(f"{yaml_path}: cannot read the GS-LRM yaml ({first})") from exc
    return config_from_mapping(data, str(yaml_path))
