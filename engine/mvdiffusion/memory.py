"""Where the diffusion networks live while they run: memory presets and placement.

Presets (full-size FaceLift weights; fp16 on CUDA, fp32 on CPU). The GPU peaks are
ESTIMATES from the parameter counts and activation sizes (no GPU was available to measure
them): UNet 870 M parameters = 1.74 GB fp16, CLIP ViT-H/14 vision tower 632 M = 1.26 GB,
VAE 84 M = 0.17 GB; UNet activations at batch 12 x 64x64 latents with SDPA ~0.5 GB; VAE decode
of six 512x512 views ~2.5 GB at once, ~0.5 GB one view at a time.

========  ===========================================================  ==================
preset    what it does                                                 expected peak
========  ===========================================================  ==================
full      every network resident on the GPU in fp16                     ~6 GB VRAM
offload   networks kept in CPU RAM, each moved to the GPU only while    ~3 GB VRAM
          it runs (model-level CPU offload)                            (+3.2 GB RAM)
low       offload + VAE slicing (encode/decode one view at a time)     ~2.3 GB VRAM
cpu       fp32 on the CPU (no GPU), VAE slicing                        ~9 GB RAM (the UNet
                                                                     step measured 5.8 GB
                                                                     incl. its weights)
========  ===========================================================  ==================

On the CPU the VAE is sliced too: one view at a time costs no time there and keeps the
fp32 decode of six 512x512 views (several GB at once) out of the peak.

"auto" picks full with >= 8 GiB free VRAM, offload with >= 4 GiB, else low; on a machine
without CUDA it is cpu. The presets' names, meaning and thresholds are defined in
engine.settings (MEMORY_PRESETS); this module places the networks accordingly. Between stages
the caller frees the diffusion models
(:meth:`engine.mvdiffusion.pipeline.MultiViewDiffusion.unload`) before GS-LRM runs.

Offload is done here with explicit ``module.to()`` around each use rather than accelerate's
forward hooks, because the VAE runs through ``encode``/``decode``, which those hooks do not
wrap.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch

from engine.errors import InputError
from engine.settings import (
    MEMORY_PRESET_NAMES,
    MEMORY_PRESETS,
    MemoryPresetName,
    auto_gpu_preset,
)


@dataclass(frozen=True)
class MemoryPreset:
    """name: full | offload | low | cpu; device: where networks run; dtype: their precision;
    offload: keep networks on the CPU between uses; vae_slicing: VAE one image at a time."""

    name: str
    device: torch.device
    dtype: torch.dtype
    offload: bool
    vae_slicing: bool


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """ "auto" -> cuda when available, else cpu. Asking for CUDA without one is an InputError."""
    name = str(device)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise InputError(f"device {name}: no CUDA GPU is available on this machine (use --device cpu)")
    try:
        return torch.device(name)
    except RuntimeError as exc:
        raise InputError(f"device {name}: not a device name (auto, cpu, cuda)") from exc


def free_vram(device: torch.device) -> int:
    """Free bytes on a CUDA device (0 for anything else)."""
    if device.type != "cuda":
        return 0
    free, _total = torch.cuda.mem_get_info(device)
    return int(free)


def choose_preset(device: str | torch.device = "auto", preset: str = "auto") -> MemoryPreset:
    """The preset to use for ``device`` (see the module table)."""
    if preset not in MEMORY_PRESETS:
        raise InputError(f"memory preset {preset!r}: not one of {', '.join(MEMORY_PRESET_NAMES)}")
    dev = resolve_device(device)
    if dev.type != "cuda":
        if MEMORY_PRESETS[preset].gpu and str(device) != "auto":  # type: ignore[index]
            raise InputError(f"memory preset {preset}: needs a CUDA device (this run is on {dev})")
        return _resolved("cpu", dev)
    if preset == "cpu":
        return _resolved("cpu", torch.device("cpu"))
    if preset == "auto":
        preset = auto_gpu_preset(free_vram(dev))
    return _resolved(preset, dev)  # type: ignore[arg-type]


def _resolved(name: MemoryPresetName, device: torch.device) -> MemoryPreset:
    info = MEMORY_PRESETS[name]
    dtype = torch.float32 if device.type == "cpu" else torch.float16
    return MemoryPreset(name, device, dtype, offload=info.offload, vae_slicing=info.vae_slicing)


def _to(module: Any, device: torch.device | str) -> None:
    # nn.Module.to directly: StableUnCLIPImageNormalizer overrides .to() with other kwargs.
    torch.nn.Module.to(module, device=device)


class Placement:
    """Puts networks where a preset says: all on the device, or each only while it runs."""

    def __init__(self, preset: MemoryPreset) -> None:
        self.preset = preset

    def setup(self, modules: list[Any], vae: Any) -> None:
        """Initial placement; turns on VAE slicing for the low preset."""
        home = "cpu" if self.preset.offload else self.preset.device
        for module in modules:
            _to(module, home)
        if self.preset.vae_slicing:
            vae.enable_slicing()

    @contextlib.contextmanager
    def use(self, module: Any) -> Iterator[Any]:
        """Context in which ``module`` sits on the execution device."""
        if not self.preset.offload:
            yield module
            return
        _to(module, self.preset.device)
        try:
            yield module
        finally:
            _to(module, "cpu")
            if self.preset.device.type == "cuda":
                torch.cuda.empty_cache()


def release_memory(device: torch.device) -> None:
    """Return freed memory to the system / driver after networks were dropped."""
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()
