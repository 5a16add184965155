"""MultiViewDiffusion (the agreed engine interface) and cancel; the command is in tests/cli."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.api import Cancelled, CancelToken, InputError, ProgressEvent
from engine.mvdiffusion.memory import choose_preset
from engine.mvdiffusion.pipeline import MultiViewDiffusion

VIEW_FILES = ["front", "front_right", "right", "back", "left", "front_left"]


def _close(a: np.ndarray, b: np.ndarray) -> None:
    diff = np.abs(a.astype(int) - b.astype(int))
    assert diff.max() <= 1 and (diff > 0).mean() <= 0.001


def test_generate_reproduces_the_reference_and_reports_every_step(mvd, input_image, expected_views) -> None:
    assert mvd.resolution == 64 and mvd.num_views == 6 and mvd.preset.name == "cpu"
    events: list[ProgressEvent] = []
    views = mvd.generate(input_image, seed=4, guidance_scale=3.0, num_steps=3, on_progress=events.append)
    _close(views, expected_views)
    assert [(e.stage, e.step, e.total) for e in events] == [("diffusion", k, 3) for k in range(4)]


def test_cancel_stops_within_one_step_skips_decode_and_leaves_no_trace(
    mvd, conformance_dir, input_image, monkeypatch, cancel_at_step
) -> None:
    from engine.mvdiffusion import sampler

    decodes = []
    real_decode = sampler.decode
    monkeypatch.setattr(sampler, "decode", lambda *a, **k: decodes.append(1) or real_decode(*a, **k))
    progress = cancel_at_step(2)
    with pytest.raises(Cancelled):
        mvd.generate(input_image, num_steps=4, on_progress=progress, cancel=progress.token)
    assert progress.steps == [0, 1, 2] and decodes == []

    # The same request afterwards (new token) equals an uncancelled run.
    again = mvd.generate(input_image, num_steps=4, cancel=CancelToken())
    fresh = MultiViewDiffusion.from_weights(conformance_dir, device="cpu")
    assert np.array_equal(again, fresh.generate(input_image, num_steps=4))
    assert decodes == [1, 1]


def test_a_set_cancel_token_stops_before_any_work(mvd, input_image) -> None:
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        mvd.generate(input_image, num_steps=3, cancel=token)


def test_other_sizes_are_resized_and_bad_inputs_rejected(mvd, input_image) -> None:
    big = np.asarray(Image.fromarray(input_image).resize((128, 96)))
    assert mvd.generate(big, num_steps=1).shape == (6, 64, 64, 3)
    with pytest.raises(InputError):
        mvd.generate(input_image.astype(np.float32), num_steps=1)
    with pytest.raises(InputError):
        mvd.generate(input_image[:, :, :2], num_steps=1)
    with pytest.raises(InputError):
        mvd.generate(input_image, num_steps=0)


def test_unload_frees_the_models(conformance_dir: Path, input_image) -> None:
    m = MultiViewDiffusion.from_weights(conformance_dir, device="cpu")
    m.unload()
    with pytest.raises(Exception, match="unloaded"):
        m.generate(input_image, num_steps=1)


def test_cpu_presets() -> None:
    assert choose_preset("cpu", "auto").name == "cpu"
    with pytest.raises(InputError):
        choose_preset("cpu", "offload")
    with pytest.raises(InputError):
        choose_preset("cpu", "tiny")


def test_offload_places_each_network_only_while_it_runs(
    conformance_dir, input_image, expected_views, monkeypatch
) -> None:
    import contextlib

    import torch

    from engine.mvdiffusion.loading import load_components
    from engine.mvdiffusion.memory import MemoryPreset, Placement

    # The "low" preset (offload + VAE slicing) with the CPU standing in for the GPU.
    preset = MemoryPreset("low", torch.device("cpu"), torch.float32, offload=True, vae_slicing=True)
    comps = load_components(conformance_dir)
    m = MultiViewDiffusion(comps, preset)
    assert comps.vae.use_slicing
    log: list[str] = []
    names = {id(comps.unet): "unet", id(comps.vae): "vae", id(comps.image_encoder): "clip"}
    names[id(comps.image_normalizer)] = "norm"
    real_use = Placement.use

    @contextlib.contextmanager
    def spy(self, module):
        log.append("+" + names[id(module)])
        with real_use(self, module):
            yield module
        log.append("-" + names[id(module)])

    monkeypatch.setattr(Placement, "use", spy)
    views = m.generate(input_image, num_steps=3)
    _close(views, expected_views)
    assert log == ["+clip", "+vae", "+norm", "-norm", "-vae", "-clip", "+unet", "-unet", "+vae", "-vae"]
