"""FaceLift's multi-view sampler (spec §3.1), written step by step.

One request = one input image -> ``num_views`` views:

1. ``num_views`` identical copies of the image (encoded once, then repeated: the copies are
   identical, so the encoders' outputs are too).
2. CLIP image embedding (the feature extractor's bicubic resize + centre crop + normalise),
   then noise augmentation at level 0: ``n ~ N(0,1)`` is drawn even so, and
   ``e = unscale(sqrt(a0) scale(e) + sqrt(1-a0) n)``; the sinusoidal embedding of level 0 is
   appended -> class labels (V, 2P).
3. VAE posterior mode of the image in [-1,1], times the scaling factor -> image latents.
4. Classifier-free guidance batch = [V unconditional ; V conditional]: the unconditional
   half has zero class labels and zero image latents and the SAME text embeddings.
5. DDIM (eta 1 by default) over the scheduler's timesteps with the UNet on
   [latents ; image latents] (8 channels); a fresh variance noise at every step, the last
   one included.
6. VAE decode of latents / scaling factor, (x/2+0.5) clamped, x255 rounded -> uint8.

Step 5 is the reference sampler. The opt-in "fast" sampler replaces it with DPM-Solver++ (2M,
deterministic, "trailing" timesteps) from diffusers, which solves the same probability-flow ODE
as DDIM with eta 0 and gets close to its solution in ~20 steps; its views are NOT the
reference's (the reference's DDIM with eta 1 adds fresh noise at every step).

Random draws (one ``torch.Generator`` on the execution device, seeded per request), in order
and in the pipeline dtype: embedding noise (V,P); initial latents (V,4,h,w); one (V,4,h,w)
per DDIM step (none for the fast sampler).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch

from engine.mvdiffusion.loading import DiffusionComponents
from engine.settings import DEFAULT_GUIDANCE, DEFAULT_SEED, DEFAULT_STEPS, SAMPLER_NAMES, SamplerName

StepCallback = Callable[[int, int], None]
"""Called after denoising step k (1-based) of N as ``cb(k, N)``; may raise to stop the run."""

Trace = dict[str, Any]


class _Draws:
    """All random draws of one request, from one generator (or replayed from ``recorded``),
    optionally traced."""

    def __init__(
        self,
        seed: int,
        device: torch.device,
        trace: Trace | None,
        recorded: Mapping[str, torch.Tensor] | None = None,
    ) -> None:
        self.generator = torch.Generator(device=device).manual_seed(int(seed))
        self.device = device
        self.trace = trace
        self.recorded = recorded

    def randn(self, name: str, shape: tuple[int, ...], dtype: torch.dtype) -> torch.Tensor:
        if self.recorded is None:
            out = torch.randn(shape, generator=self.generator, device=self.device, dtype=dtype)
        else:
            if name not in self.recorded:
                raise ValueError(f"no recorded random draw named {name!r}")
            out = self.recorded[name].to(device=self.device, dtype=dtype)
            if tuple(out.shape) != tuple(shape):
                raise ValueError(f"recorded draw {name!r} has shape {tuple(out.shape)}, expected {shape}")
        if self.trace is not None:
            self.trace.setdefault("rng", {})[name] = out.detach().cpu().clone()
        return out


def _record(trace: Trace | None, name: str, value: Any) -> None:
    if trace is not None:
        trace[name] = value.detach().cpu().clone() if isinstance(value, torch.Tensor) else value


def clip_crop(feature_extractor: Any, image: np.ndarray) -> np.ndarray:
    """The CLIP processor's resize + centre crop only: (H,W,3) uint8 -> (S,S,3) uint8 (S=224)."""
    out = feature_extractor(
        images=[image],
        do_rescale=False,
        do_normalize=False,
        return_tensors="np",
        input_data_format="channels_last",
    ).pixel_values[0]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8).transpose(1, 2, 0)


def clip_pixels(feature_extractor: Any, crop: np.ndarray) -> torch.Tensor:
    """Rescale + normalise an already cropped (S,S,3) uint8 image -> (1,3,S,S) float32."""
    out = feature_extractor(
        images=[crop],
        do_resize=False,
        do_center_crop=False,
        do_convert_rgb=False,
        return_tensors="pt",
        input_data_format="channels_last",
    ).pixel_values
    return out


def image_to_tensor(image: np.ndarray) -> torch.Tensor:
    """(H,W,3) uint8 -> (1,3,H,W) float32 in [0,1] (the usual to_tensor arithmetic)."""
    return (
        torch.from_numpy(np.array(image, dtype=np.uint8, copy=True))
        .permute(2, 0, 1)
        .unsqueeze(0)
        .float()
        .div(255)
    )


def encode_condition(
    comps: DiffusionComponents, image: np.ndarray, draws: _Draws, device: torch.device, trace: Trace | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Conditional class labels (V, 2P) and image latents (V, 4, h, w) for one image."""
    views = comps.settings.num_views
    dtype = comps.dtype

    crop = clip_crop(comps.feature_extractor, image)
    _record(trace, "clip_input_224", torch.from_numpy(crop))
    pixels = clip_pixels(comps.feature_extractor, crop).to(device=device, dtype=dtype)
    embeds = comps.image_encoder(pixels).image_embeds.repeat(views, 1)
    _record(trace, "clip_image_embeds", embeds)

    noise = draws.randn("image_embed_noise", tuple(embeds.shape), embeds.dtype)
    level = torch.zeros(views, dtype=torch.long, device=device)
    normalizer = comps.image_normalizer
    noised = comps.noising_scheduler.add_noise(normalizer.scale(embeds), noise=noise, timesteps=level)
    embeds = normalizer.unscale(noised)
    from diffusers.models.embeddings import get_timestep_embedding

    level_embed = get_timestep_embedding(
        level, embeds.shape[-1], flip_sin_to_cos=True, downscale_freq_shift=0
    ).to(embeds.dtype)
    class_labels = torch.cat([embeds, level_embed], dim=1)

    x = (image_to_tensor(image).to(device) * 2.0 - 1.0).to(dtype)
    vae = comps.vae
    latents = vae.encode(x).latent_dist.mode() * vae.config.scaling_factor
    return class_labels, latents.repeat(views, 1, 1, 1)


def ddim_step(
    scheduler: Any,
    num_steps: int,
    v: torch.Tensor,
    t: int,
    x: torch.Tensor,
    eta: float,
    noise: Callable[[], torch.Tensor],
) -> torch.Tensor:
    """One DDIM step x_t -> x_{t-k} (spec §3.1 step 6) for the scheduler's prediction type.

    v: model output (V,4,h,w); x: current latents; noise(): the fresh variance noise, drawn
    here (after the arithmetic that precedes it) so the draw order is the reference's.
    """
    cfg = scheduler.config
    prev_t = t - cfg.num_train_timesteps // num_steps
    alphas = scheduler.alphas_cumprod
    a_t = alphas[t]
    a_p = alphas[prev_t] if prev_t >= 0 else scheduler.final_alpha_cumprod
    b_t = 1 - a_t
    if cfg.prediction_type == "v_prediction":
        x0 = a_t**0.5 * x - b_t**0.5 * v
        eps = a_t**0.5 * v + b_t**0.5 * x
    elif cfg.prediction_type == "epsilon":
        x0 = (x - b_t**0.5 * v) / a_t**0.5
        eps = v
    else:  # "sample"
        x0 = v
        eps = (x - a_t**0.5 * x0) / b_t**0.5
    if cfg.clip_sample:
        x0 = x0.clamp(-cfg.clip_sample_range, cfg.clip_sample_range)
        eps = (x - a_t**0.5 * x0) / b_t**0.5
    variance = (1 - a_p) / (1 - a_t) * (1 - a_t / a_p)
    sigma = eta * variance**0.5
    prev = a_p**0.5 * x0 + (1 - a_p - sigma**2) ** 0.5 * eps
    if eta > 0:
        prev = prev + sigma * noise()
    return prev


def decode(vae: Any, latents: torch.Tensor, trace: Trace | None = None) -> np.ndarray:
    """(V,4,h,w) latents -> (V,H,W,3) uint8 images."""
    images = vae.decode(latents / vae.config.scaling_factor).sample
    _record(trace, "decoded", images)
    images = (images / 2 + 0.5).clamp(0, 1)
    arr = images.cpu().permute(0, 2, 3, 1).float().numpy()
    return (arr * 255).round().astype(np.uint8)


def fast_scheduler(reference_config: Mapping[str, Any]) -> Any:
    """The opt-in fast sampler: DPM-Solver++ (2M, deterministic) built from the reference DDIM
    scheduler's config (same betas and prediction type), with "trailing" timesteps so the first
    step starts from pure noise at any step count, and a first-order last step."""
    import inspect

    from diffusers import DPMSolverMultistepScheduler

    accepted = set(inspect.signature(DPMSolverMultistepScheduler.__init__).parameters)
    config = {k: v for k, v in dict(reference_config).items() if k in accepted}
    config.update(
        algorithm_type="dpmsolver++",
        solver_order=2,
        timestep_spacing="trailing",
        lower_order_final=True,
        final_sigmas_type="zero",
    )
    return DPMSolverMultistepScheduler.from_config(config)


StepFn = Callable[[int, torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]
"""step(k, t, model_output, latents) -> latents after denoising step k (0-based)."""


def make_stepper(
    comps: DiffusionComponents,
    sampler: SamplerName,
    num_steps: int,
    eta: float,
    draws: _Draws,
    device: torch.device,
) -> tuple[torch.Tensor, float, StepFn]:
    """(timesteps, initial noise sigma, step function) of the chosen sampler.

    "reference": FaceLift's DDIM (eta 1 by default) with a fresh variance noise drawn at every
    step, in the reference's order; "fast": :func:`fast_scheduler` (no draws after the initial
    latents). Both take the model output after classifier-free guidance.
    """
    if sampler == "reference":
        scheduler = comps.scheduler
        scheduler.set_timesteps(num_steps, device=device)

        def ddim(k: int, t: torch.Tensor, out: torch.Tensor, latents: torch.Tensor) -> torch.Tensor:
            def step_noise() -> torch.Tensor:
                return draws.randn(f"ddim_noise_{k:03d}", tuple(latents.shape), out.dtype)

            return ddim_step(scheduler, num_steps, out, int(t), latents, eta, step_noise)

        return scheduler.timesteps, float(scheduler.init_noise_sigma), ddim
    if sampler == "fast":
        fast = fast_scheduler(comps.scheduler.config)
        fast.set_timesteps(num_steps, device=device)

        def dpm(k: int, t: torch.Tensor, out: torch.Tensor, latents: torch.Tensor) -> torch.Tensor:
            return fast.step(out, t, latents, return_dict=False)[0]  # type: ignore[no-any-return]

        return fast.timesteps, float(fast.init_noise_sigma), dpm
    raise ValueError(f"unknown sampler {sampler!r}; choose one of {', '.join(SAMPLER_NAMES)}")


def sample_views(
    comps: DiffusionComponents,
    image: np.ndarray,
    *,
    seed: int = DEFAULT_SEED,
    guidance_scale: float = DEFAULT_GUIDANCE,
    num_steps: int = DEFAULT_STEPS,
    eta: float = 1.0,
    sampler: SamplerName = "reference",
    device: torch.device | str = "cpu",
    on_step: StepCallback | None = None,
    use: Callable[[Any], Any] | None = None,
    trace: Trace | None = None,
    after_encode: Callable[[], None] | None = None,
    recorded_noise: Mapping[str, torch.Tensor] | None = None,
) -> np.ndarray:
    """Generate the views of one image.

    image: (R,R,3) uint8 RGB at the pipeline resolution R.
    sampler: "reference" (FaceLift's DDIM: seed parity with the reference) or "fast"
        (DPM-Solver++, good in ~20 steps; its results are NOT the reference's).
    device: execution device (where the generator lives and the networks run).
    use: context-manager factory placing a network on ``device`` while it runs (model offload);
        ``None`` = every network already sits on ``device``.
    trace: if given, filled with the intermediates and every random draw (tests, debugging).
    after_encode: called once the input is encoded, before the first step (a cancel check:
        it may raise to stop before any denoising step runs).
    recorded_noise: replay these random draws (by name, as ``trace["rng"]`` records them)
        instead of drawing from the seeded generator -- a CUDA generator cannot reproduce a
        CPU-recorded run, so the doctor replays the reference's draws there.
    Returns (num_views, R, R, 3) uint8 in prompt order.
    """
    from contextlib import nullcontext

    dev = torch.device(device)
    place = use or (lambda _m: nullcontext())
    views = comps.settings.num_views
    dtype = comps.dtype
    do_cfg = guidance_scale != 1.0
    draws = _Draws(seed, dev, trace, recorded_noise)

    with torch.inference_mode():
        text = comps.prompt_embeds.to(device=dev, dtype=dtype)
        with place(comps.image_encoder), place(comps.vae), place(comps.image_normalizer):
            class_labels, image_latents = encode_condition(comps, image, draws, dev, trace)
        _record(trace, "image_latents", image_latents)
        if after_encode is not None:
            after_encode()
        if do_cfg:
            text = torch.cat([text, text])
            class_labels = torch.cat([torch.zeros_like(class_labels), class_labels])
            image_latents = torch.cat([torch.zeros_like(image_latents), image_latents])
        _record(trace, "class_labels", class_labels)

        timesteps, init_sigma, step = make_stepper(comps, sampler, num_steps, eta, draws, dev)
        _record(trace, "timesteps", timesteps)
        size = int(comps.unet.config.sample_size)
        shape = (views, int(comps.unet.config.out_channels), size, size)
        latents = draws.randn("initial_latents", shape, dtype) * init_sigma

        with place(comps.unet):
            for k, t in enumerate(timesteps):
                x_in = torch.cat([latents, latents]) if do_cfg else latents
                x_in = torch.cat([x_in, image_latents], dim=1)  # scale_model_input is the identity
                out = comps.unet(
                    x_in, t, encoder_hidden_states=text, class_labels=class_labels, return_dict=False
                )[0]
                if k == 0:
                    _record(trace, "unet_out_000", out)
                if do_cfg:
                    v_u, v_c = out.chunk(2)
                    out = v_u + guidance_scale * (v_c - v_u)
                latents = step(k, t, out, latents)
                _record(trace, f"latents_after_{k:03d}", latents)
                if on_step is not None:
                    on_step(k + 1, len(timesteps))
        _record(trace, "latents_final", latents)
        with place(comps.vae):
            return decode(comps.vae, latents, trace)
