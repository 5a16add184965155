"""Finding and loading a GS-LRM checkpoint from a weights folder (release layout).

Layout: ``<dir>/gslrm/ckpt_<step>.pt`` (a ``torch.save`` dict ``{"model": state_dict, ...}``)
and optionally ``<dir>/gslrm/*.yaml`` (FaceLift's config schema). Checkpoints are data: they
are read with ``torch.load(weights_only=True)``; anything that needs arbitrary unpickling is
refused. The model is built on the meta device and the loaded tensors are assigned to it, so
the full-size weights exist in memory once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import torch

from engine.errors import WeightsError
from engine.gslrm.config import GSLRMConfig, load_config
from engine.gslrm.model import GSLRM
from engine.weights.files import load_file, shape_mismatch, shapes_of

IGNORED_PREFIXES = ("loss_calculator.",)
"""Training-only modules (the VGG19 perceptual loss) that the released state dict carries."""

_CKPT_RE = re.compile(r"^ckpt_(\d+)\.pt$")


def find_checkpoint(weights_dir: Path | str) -> tuple[Path, Path | None]:
    """(checkpoint, yaml or None) in ``<weights_dir>/gslrm``; the highest step wins."""
    folder = Path(weights_dir) / "gslrm"
    if not folder.is_dir():
        raise WeightsError(f"{folder}: GS-LRM weights folder not found")
    steps = [(int(m.group(1)), p) for p in folder.iterdir() if (m := _CKPT_RE.match(p.name)) and p.is_file()]
    if not steps:
        raise WeightsError(f"{folder}: no ckpt_<step>.pt checkpoint in it")
    ckpt = max(steps)[1]
    yamls = sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    if len(yamls) > 1:
        named = [p for p in yamls if p.stem == "gslrm"]
        if len(named) != 1:
            raise WeightsError(f"{folder}: several yaml files ({', '.join(p.name for p in yamls)}); keep one")
        yamls = named
    return ckpt, (yamls[0] if yamls else None)


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """The ``model`` state dict of a checkpoint, as CPU tensors (memory-mapped when possible)."""
    data = load_file(path)  # WeightsError naming the file for anything unreadable or refused
    if not isinstance(data, Mapping) or "model" not in data:
        raise WeightsError(f"{path}: not a GS-LRM checkpoint (no 'model' state dict)")
    state = data["model"]
    if not isinstance(state, Mapping) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsError(f"{path}: 'model' is not a state dict of tensors")
    return {k: v for k, v in state.items() if not k.startswith(IGNORED_PREFIXES)}


def check_keys(state: Mapping[str, torch.Tensor], model: torch.nn.Module, path: Path) -> None:
    """Raise WeightsError naming missing, unexpected and mis-shaped keys (first few + count)."""
    problems = shape_mismatch(shapes_of(state), shapes_of(model.state_dict()))
    if problems:
        raise WeightsError(f"{path}: does not fit the GS-LRM config: {problems}")


def build_model(config: GSLRMConfig, device: torch.device | str = "meta") -> GSLRM:
    """An un-initialised GSLRM on ``device`` (meta: no memory)."""
    with torch.device(device):
        return GSLRM(config)


def check_checkpoint(weights_dir: Path | str) -> Path:
    """Check, without loading the weights into memory, that the GS-LRM checkpoint of a weights
    folder would load: it is found, reads as data (memory-mapped) and fits its config.
    Returns the checkpoint; raises the same one-line WeightsError :func:`load_model` would."""
    ckpt, yaml_path = find_checkpoint(weights_dir)
    model = build_model(load_config(yaml_path))
    check_keys(read_state_dict(ckpt), model, ckpt)
    return ckpt


def load_model(weights_dir: Path | str) -> tuple[GSLRM, Path]:
    """The GS-LRM of a weights folder on the CPU in float32, in eval mode, and its checkpoint."""
    ckpt, yaml_path = find_checkpoint(weights_dir)
    config = load_config(yaml_path)
    model = build_model(config)
    state = read_state_dict(ckpt)
    check_keys(state, model, ckpt)
    state = {k: (v.float() if v.dtype != torch.float32 else v) for k, v in state.items()}
    model.load_state_dict(state, strict=True, assign=True)
    model.eval().requires_grad_(False)
    return model, ckpt
