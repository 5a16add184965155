"""Every reconstruction setting in one place: its default, the values it may take, what they mean.

Two kinds of settings, kept apart on purpose:

* :class:`EngineConfig` configures an engine: which engine, the weights folder, the device and
  the memory preset. ``engine.engines.make_engine(config)`` builds an engine from one config and
  the engine keeps it for its whole life; a run with another config needs another engine.
* :class:`RunOptions` is what one run asks for besides the photo: seed, guidance, steps and the
  crop mode (``engine.api.ReconstructionRequest`` pairs them with the photo).

The engines, the ``facelift`` command's argument defaults and the desktop app's parameter panel
all read from here; nothing else writes these numbers or names down. Plain Python: no torch, no
Qt, so the CLI's ``--help`` and the GUI import it for free.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypedDict, get_args

from engine.errors import InputError

# --------------------------------------------------------------------------------------
# Engines and devices
# --------------------------------------------------------------------------------------

EngineName = Literal["facelift", "instant"]
ENGINE_NAMES: tuple[EngineName, ...] = get_args(EngineName)
ENGINE_LABELS: dict[EngineName, str] = {
    "facelift": "FaceLift (diffusion + GS-LRM)",
    "instant": "Instant (built-in, offline)",
}
"""How the window names each engine."""

DeviceName = Literal["auto", "cpu", "cuda"]
DEVICE_NAMES: tuple[DeviceName, ...] = get_args(DeviceName)
DEVICE_LABELS: dict[DeviceName, str] = {"auto": "Automatic", "cpu": "CPU", "cuda": "CUDA GPU"}
"""auto: CUDA when a GPU is present, else the CPU."""

# --------------------------------------------------------------------------------------
# Memory presets (where the diffusion networks live, and whether they are freed before GS-LRM)
# --------------------------------------------------------------------------------------

MemoryPresetName = Literal["auto", "full", "offload", "low", "cpu"]
MEMORY_PRESET_NAMES: tuple[MemoryPresetName, ...] = get_args(MemoryPresetName)

GIB = 1024**3
AUTO_FULL_MIN_FREE_VRAM = 8 * GIB
"""auto on a GPU picks full with at least this much free VRAM ..."""
AUTO_OFFLOAD_MIN_FREE_VRAM = 4 * GIB
"""... offload with at least this much, else low."""
KEEP_DIFFUSION_MIN_VRAM = 16 * GIB
"""auto on a GPU keeps the diffusion models loaded during GS-LRM when the GPU has this much in total."""
KEEP_DIFFUSION_MIN_RAM = 12 * GIB
"""On the CPU (auto or cpu) they are kept when this much RAM is available."""


@dataclass(frozen=True)
class MemoryPresetInfo:
    """What one memory preset means.

    label: the window's name for it; summary: one line for ``--help`` and docs.
    gpu: needs a CUDA device. offload: each diffusion network sits on the GPU only while it
    runs. vae_slicing: the VAE encodes/decodes one view at a time.
    frees_diffusion: the diffusion models are freed before GS-LRM runs (True / False; None:
    decided by the memory present, see KEEP_DIFFUSION_MIN_VRAM / KEEP_DIFFUSION_MIN_RAM).
    lower: the preset to suggest after running out of memory on a GPU (None: none is lower).
    """

    name: MemoryPresetName
    label: str
    summary: str
    gpu: bool
    offload: bool
    vae_slicing: bool
    frees_diffusion: bool | None
    lower: MemoryPresetName | None


MEMORY_PRESETS: dict[MemoryPresetName, MemoryPresetInfo] = {
    p.name: p
    for p in (
        MemoryPresetInfo(
            "auto",
            "Automatic",
            "full, offload or low by the free GPU memory; cpu without a GPU",
            gpu=False,
            offload=False,
            vae_slicing=False,
            frees_diffusion=None,
            lower="low",
        ),
        MemoryPresetInfo(
            "full",
            "Full: all models on the GPU (≥ 16 GB)",
            "every model stays on the GPU (fastest, ~6 GB for diffusion)",
            gpu=True,
            offload=False,
            vae_slicing=False,
            frees_diffusion=False,
            lower="offload",
        ),
        MemoryPresetInfo(
            "offload",
            "Offload: one model at a time (12 GB)",
            "each diffusion model on the GPU only while it runs; freed before GS-LRM (~3 GB)",
            gpu=True,
            offload=True,
            vae_slicing=False,
            frees_diffusion=True,
            lower="low",
        ),
        MemoryPresetInfo(
            "low",
            "Low: offload + VAE per view (8 GB)",
            "offload, and the VAE one view at a time (~2.3 GB)",
            gpu=True,
            offload=True,
            vae_slicing=True,
            frees_diffusion=True,
            lower=None,
        ),
        MemoryPresetInfo(
            "cpu",
            "CPU only (fp32, slow)",
            "fp32 on the CPU, the VAE one view at a time",
            gpu=False,
            offload=False,
            vae_slicing=True,
            frees_diffusion=None,
            lower=None,
        ),
    )
}
"""The memory presets in the order the window lists them (lowest GPU memory last but cpu)."""


def auto_gpu_preset(free_vram: int) -> MemoryPresetName:
    """What "auto" picks on a CUDA device with ``free_vram`` bytes free: full, offload or low."""
    if free_vram >= AUTO_FULL_MIN_FREE_VRAM:
        return "full"
    return "offload" if free_vram >= AUTO_OFFLOAD_MIN_FREE_VRAM else "low"


def lower_preset(preset: str, device: str) -> MemoryPresetName | None:
    """The preset to suggest after running out of memory with ``preset`` on ``device``, or None.

    The GPU presets need a GPU, so with device "cpu" there is none.
    """
    if device == "cpu" or preset not in MEMORY_PRESETS:
        return None
    return MEMORY_PRESETS[preset].lower  # type: ignore[index]


# --------------------------------------------------------------------------------------
# Defaults of a run, of the filters and of the turntable (the reference's values)
# --------------------------------------------------------------------------------------

DEFAULT_SEED = 4
DEFAULT_GUIDANCE = 3.0
DEFAULT_STEPS = 50
"""Denoising steps of the reference sampler."""

SamplerName = Literal["reference", "fast"]
SAMPLER_NAMES: tuple[SamplerName, ...] = get_args(SamplerName)
DEFAULT_SAMPLER: SamplerName = "reference"
SAMPLER_LABELS: dict[SamplerName, str] = {
    "reference": "Reference (DDIM, FaceLift's views)",
    "fast": "Fast (DPM-Solver++, not the reference's views)",
}
"""reference: FaceLift's DDIM with eta 1 -- a seed gives the reference implementation's views.
fast: DPM-Solver++ -- good views in ~20 steps, but not the reference's for a seed."""
SAMPLER_STEPS: dict[SamplerName, int] = {"reference": DEFAULT_STEPS, "fast": 20}
"""The steps each sampler takes when none are asked for."""

FramingName = Literal["face", "object", "none"]
FRAMING_NAMES: tuple[FramingName, ...] = get_args(FramingName)
DEFAULT_FRAMING: FramingName = "face"
"""The framing of a model folder that names none (the released FaceLift model's)."""
FRAMING_LABELS: dict[FramingName, str] = {
    "face": "Face (FaceLift's framing)",
    "object": "Object (centre the subject's mask)",
    "none": "None (whole photo, padded)",
}
"""face: find the face and frame it like FaceLift; object: the subject's mask (the photo's own
alpha, else a GrabCut matte) centred, its longer side scaled to target_ratio x 512; none: the whole
photo fitted into the square with white padding."""
DEFAULT_TARGET_RATIO = 0.6
"""Object framing: the subject box's longer side as a fraction of the 512 px input (the
domain-adaptation recipe's value); a model folder may set its own."""

FILTER_OPACITY = 0.04
"""The reference's filters (spec §6.2): keep opacity above this ..."""
FILTER_MAX_SCALE = 0.1
"""... max scale below this (or z > 0) ..."""
FILTER_FLOATER = 0.6
"""... drop floaters (z < -f, |x| > f, |y| > f) ..."""
FILTER_CROP_BOX: tuple[float, float, float, float, float, float] = (-0.91, 0.91, -0.91, 0.91, -1.0, 1.0)
"""... and keep centres inside this box (xmin, xmax, ymin, ymax, zmin, zmax)."""

TURNTABLE_FRAMES = 150
TURNTABLE_FPS = 30.0
TURNTABLE_ELEVATION = 0.0
"""Degrees above the horizon."""
RENDER_SIZE = 512
"""Square size of output.png's views and of the turntable."""
RENDER_SIZE_RANGE = (8, 8192)


# --------------------------------------------------------------------------------------
# What configures an engine / what one run asks for
# --------------------------------------------------------------------------------------


def _check(kind: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise InputError(f"unknown {kind} {value!r}; choose {', '.join(allowed)}")


@dataclass(frozen=True)
class EngineConfig:
    """What configures an engine; an engine keeps its config for its whole life.

    engine: "facelift" | "instant", or None to choose: FaceLift when its weights are found, else
        instant (engine.engines.make_engine says which and why).
    weights_dir: the FaceLift weights folder; None looks it up (FACELIFT_WEIGHTS, the user data
        folder; see engine.weights.find_weights).
    device: "auto" | "cpu" | "cuda"; memory_preset: a name in MEMORY_PRESETS.
    Unknown names raise InputError. Hashable: the GUI keeps loaded engines keyed by config.
    """

    engine: EngineName | None = None
    weights_dir: Path | None = None
    device: DeviceName = "auto"
    memory_preset: MemoryPresetName = "auto"

    def __post_init__(self) -> None:
        if self.engine is not None:
            _check("engine", self.engine, ENGINE_NAMES)
        _check("device", self.device, DEVICE_NAMES)
        _check("memory preset", self.memory_preset, MEMORY_PRESET_NAMES)
        if self.weights_dir is not None and not isinstance(self.weights_dir, Path):
            object.__setattr__(self, "weights_dir", Path(self.weights_dir))


class Sampling(TypedDict):
    """A run's diffusion sampling settings (see RunOptions)."""

    seed: int
    guidance_scale: float
    num_steps: int
    sampler: SamplerName


@dataclass(frozen=True)
class RunOptions:
    """What one run asks for besides the photo. Defaults are the reference's (inference.py).

    seed: the diffusion seed (each run seeded on its own); guidance_scale: classifier-free
    guidance; num_steps: denoising steps; sampler: a name in SAMPLER_NAMES. auto_crop: detect the face and apply FaceLift's
    framing (False: the whole photo, padded to a square with white). preprocess: False takes
    the image as an already prepared white-background crop. framing: a name in FRAMING_NAMES,
    or None for the model folder's own (DEFAULT_FRAMING when it names none; "none" when
    auto_crop is False); see :meth:`framing_for`.
    """

    seed: int = DEFAULT_SEED
    guidance_scale: float = DEFAULT_GUIDANCE
    num_steps: int = DEFAULT_STEPS
    auto_crop: bool = True
    preprocess: bool = True
    sampler: SamplerName = DEFAULT_SAMPLER
    framing: FramingName | None = None

    def __post_init__(self) -> None:
        _check("sampler", self.sampler, SAMPLER_NAMES)
        if self.framing is not None:
            _check("framing", self.framing, FRAMING_NAMES)

    def sampling(self) -> Sampling:
        """What the multi-view diffusion takes from this run (MultiViewDiffusion.generate's
        keyword arguments), and what a result records of it in its ``info``."""
        return Sampling(
            seed=self.seed, guidance_scale=self.guidance_scale, num_steps=self.num_steps, sampler=self.sampler
        )

    def framing_for(self, model_default: FramingName = DEFAULT_FRAMING) -> FramingName:
        """The framing this run uses: the one asked for, else "none" without auto-crop, else
        the model folder's ``model_default``."""
        if self.framing is not None:
            return self.framing
        return model_default if self.auto_crop else "none"
