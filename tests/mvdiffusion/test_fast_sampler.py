"""The opt-in fast sampler (DPM-Solver++): end to end on the tiny weights with progress and
cancel, deterministic per seed, and a solver of the same ODE as DDIM with eta 0 (it gets closer
to that ODE's solution in 20 steps than DDIM does). The reference sampler's conformance is
tests/mvdiffusion/test_sampler.py, unchanged by this feature."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.api import Cancelled, InputError, ProgressEvent
from engine.mvdiffusion.loading import load_components
from engine.mvdiffusion.pipeline import MultiViewDiffusion
from engine.mvdiffusion.sampler import fast_scheduler, sample_views


def test_fast_sampler_runs_end_to_end_with_progress(mvd: MultiViewDiffusion, input_image: np.ndarray) -> None:
    events: list[ProgressEvent] = []
    views = mvd.generate(input_image, num_steps=20, sampler="fast", on_progress=events.append)
    assert views.shape == (6, 64, 64, 3) and views.dtype == np.uint8
    assert [(e.stage, e.step, e.total) for e in events] == [("diffusion", k, 20) for k in range(21)]
    assert events[-1].message == "denoising step 20/20"
    again = mvd.generate(input_image, num_steps=20, sampler="fast")
    assert np.array_equal(views, again), "same seed, same views"
    other = mvd.generate(input_image, num_steps=20, sampler="fast", seed=5)
    assert not np.array_equal(views, other)
    reference = mvd.generate(input_image, num_steps=20)
    assert np.abs(views.astype(int) - reference.astype(int)).mean() > 1.0, "not the reference's views"


def test_fast_sampler_cancels_between_steps(
    mvd: MultiViewDiffusion, input_image: np.ndarray, cancel_at_step
) -> None:
    progress = cancel_at_step(5)
    with pytest.raises(Cancelled):
        mvd.generate(input_image, num_steps=20, sampler="fast", on_progress=progress, cancel=progress.token)
    assert progress.steps == list(range(6)), "no step after the cancel"


def test_unknown_sampler_is_a_one_line_input_error(mvd: MultiViewDiffusion, input_image: np.ndarray) -> None:
    with pytest.raises(InputError, match="unknown sampler 'ddpm'; choose reference, fast"):
        mvd.generate(input_image, num_steps=2, sampler="ddpm")


def test_fast_sampler_draws_only_the_condition_and_initial_noise(conformance_dir: Path, input_image) -> None:
    comps = load_components(conformance_dir)
    trace: dict = {}
    sample_views(comps, input_image, num_steps=4, sampler="fast", trace=trace)
    assert list(trace["rng"]) == ["image_embed_noise", "initial_latents"]
    assert int(trace["timesteps"][0]) == 999, "trailing timesteps start from pure noise"


def _final_latents(comps, image, **kwargs) -> torch.Tensor:
    trace: dict = {}
    sample_views(comps, image, trace=trace, **kwargs)
    return trace["latents_final"]


def test_fast_sampler_solves_the_ddim_ode_better_than_ddim_at_equal_steps(
    conformance_dir: Path, input_image
) -> None:
    comps = load_components(conformance_dir)
    # DDIM with eta 0 on the same (trailing) timesteps follows the probability-flow ODE.
    ode = dataclasses.replace(comps, scheduler=fast_ddim(comps.scheduler.config))
    solution = _final_latents(ode, input_image, num_steps=100, eta=0.0)
    ddim20 = (_final_latents(ode, input_image, num_steps=20, eta=0.0) - solution).abs().max()
    fast10 = (_final_latents(comps, input_image, num_steps=10, sampler="fast") - solution).abs().max()
    fast20 = (_final_latents(comps, input_image, num_steps=20, sampler="fast") - solution).abs().max()
    assert fast20 < fast10, "more steps, closer to the solution"
    assert fast20 < 0.6 * ddim20, (float(fast20), float(ddim20))


def fast_ddim(config):
    from diffusers import DDIMScheduler

    return DDIMScheduler.from_config(dict(config), timestep_spacing="trailing")


def test_fast_scheduler_keeps_the_reference_noise_schedule(conformance_dir: Path) -> None:
    comps = load_components(conformance_dir)
    fast = fast_scheduler(comps.scheduler.config)
    assert fast.config.prediction_type == comps.scheduler.config.prediction_type == "v_prediction"
    torch.testing.assert_close(fast.alphas_cumprod, comps.scheduler.alphas_cumprod)
    assert fast.config.algorithm_type == "dpmsolver++" and fast.config.solver_order == 2
