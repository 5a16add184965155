"""``MultiViewDiffusion``: one prepared portrait -> FaceLift's six generated views.

Usage::

    mvd = MultiViewDiffusion.from_weights(weights_dir)          # device / preset "auto"
    views = mvd.generate(image, seed=4, guidance_scale=3.0, num_steps=50,
                         on_progress=cb, cancel=token)            # (6, R, R, 3) uint8
    mvd.unload()                                                  # before GS-LRM runs

Progress: one ``ProgressEvent(stage="diffusion", step=k, total=N)`` per denoising step.
Cancel: checked before the encode, after it and after every step; raises
:class:`engine.api.Cancelled` and skips the decode.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from engine.api import CancelToken, ProgressCallback, ProgressEvent, no_progress
from engine.errors import InputError, WeightsError
from engine.io.images import resize_square
from engine.mvdiffusion.config import AttentionMode
from engine.mvdiffusion.loading import DiffusionComponents, load_components
from engine.mvdiffusion.memory import MemoryPreset, Placement, choose_preset, release_memory
from engine.settings import (
    DEFAULT_GUIDANCE,
    DEFAULT_SAMPLER,
    DEFAULT_SEED,
    DEFAULT_STEPS,
    SAMPLER_NAMES,
    SamplerName,
)

STAGE = "diffusion"


class MultiViewDiffusion:
    """FaceLift's multi-view diffusion on stock diffusers/transformers networks."""

    def __init__(self, components: DiffusionComponents, preset: MemoryPreset) -> None:
        self._comps: DiffusionComponents | None = components
        self.preset = preset
        self._placement = Placement(preset)
        self._placement.setup(
            [components.unet, components.vae, components.image_encoder, components.image_normalizer],
            components.vae,
        )

    @classmethod
    def from_weights(
        cls,
        weights_dir: Path | str,
        device: str = "auto",
        memory_preset: str = "auto",
        attention: AttentionMode | None = None,
    ) -> MultiViewDiffusion:
        """Load ``<weights_dir>/mvdiffusion/pipeckpts`` (fp16 on CUDA, fp32 on CPU).

        attention: override of the UNet's attn1 rule ("sparse" is what the release computes).
        Raises WeightsError (one line naming the file) for a missing/corrupt/unsupported folder.
        """
        preset = choose_preset(device, memory_preset)
        comps = load_components(weights_dir, dtype=preset.dtype, attention=attention)
        return cls(comps, preset)

    @property
    def components(self) -> DiffusionComponents:
        if self._comps is None:
            raise WeightsError("the diffusion models were unloaded; load them again with from_weights")
        return self._comps

    @property
    def resolution(self) -> int:
        """Image size in pixels the pipeline works at (unet.sample_size x VAE factor)."""
        return self.components.resolution

    @property
    def num_views(self) -> int:
        return self.components.settings.num_views

    def generate(
        self,
        image: np.ndarray,
        seed: int = DEFAULT_SEED,
        guidance_scale: float = DEFAULT_GUIDANCE,
        num_steps: int = DEFAULT_STEPS,
        on_progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
        sampler: SamplerName = DEFAULT_SAMPLER,
    ) -> np.ndarray:
        """Generate the views of a prepared white-background crop.

        image: (H,W,3) uint8 RGB; resized (LANCZOS) to :attr:`resolution` if it differs.
        sampler: "reference" (FaceLift's DDIM, eta 1: the reference's views for a seed) or "fast"
        (DPM-Solver++, ~20 steps; good views, but not the reference's). Progress, cancel and the
        draws before the first step are the same for both.
        Returns (num_views, R, R, 3) uint8 in the order front, front_right, right, back, left,
        front_left. The same arguments always give the same images (one generator per call).
        """
        from engine.mvdiffusion.sampler import sample_views

        if sampler not in SAMPLER_NAMES:
            raise InputError(f"unknown sampler {sampler!r}; choose {', '.join(SAMPLER_NAMES)}")
        comps = self.components
        image = self._check_image(image)
        steps = self._check_steps(num_steps, comps)
        if not math.isfinite(float(guidance_scale)):
            raise InputError(f"guidance scale {guidance_scale}: not a finite number")
        image = resize_square(image, comps.resolution)

        def on_step(k: int, total: int) -> None:
            on_progress(ProgressEvent(STAGE, step=k, total=total, message=f"denoising step {k}/{total}"))
            if cancel is not None:
                cancel.raise_if_cancelled()

        on_progress(ProgressEvent(STAGE, step=0, total=steps, message="encoding the input image"))
        if cancel is not None:  # after the report, like every step: no encode once cancelled
            cancel.raise_if_cancelled()
        return sample_views(
            comps,
            image,
            seed=int(seed),
            guidance_scale=float(guidance_scale),
            num_steps=steps,
            sampler=sampler,
            device=self.preset.device,
            on_step=on_step,
            use=self._placement.use,
            after_encode=None if cancel is None else cancel.raise_if_cancelled,
        )

    def unload(self) -> None:
        """Drop every network and return the memory (call before GS-LRM on small GPUs)."""
        if self._comps is None:
            return
        self._comps = None
        release_memory(self.preset.device)

    @staticmethod
    def _check_image(image: Any) -> np.ndarray:
        if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
            raise InputError("diffusion input must be a uint8 RGB image array")
        if image.ndim != 3 or image.shape[2] != 3 or min(image.shape[:2]) < 1:
            raise InputError(f"diffusion input must be (H,W,3) RGB, got shape {image.shape}")
        return image

    @staticmethod
    def _check_steps(num_steps: int, comps: DiffusionComponents) -> int:
        limit = int(comps.scheduler.config.num_train_timesteps)
        if isinstance(num_steps, bool) or int(num_steps) != num_steps or not 1 <= int(num_steps) <= limit:
            raise InputError(f"number of steps {num_steps}: must be an integer from 1 to {limit}")
        return int(num_steps)
