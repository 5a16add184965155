"""engine.engines: the tiny FaceLift pipeline (conformance weights) and the instant engine."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.api import (
    Cancelled,
    CancelToken,
    CropPreview,
    GaussiansPreview,
    InputError,
    OutOfMemory,
    ProgressEvent,
    ReconstructionRequest,
    WeightsError,
)
from engine.engines import FaceLiftEngine, InstantEngine, make_engine
from engine.settings import EngineConfig, RunOptions

REPO = Path(__file__).resolve().parents[2]
PHOTO = REPO / "resources" / "samples" / "astronaut.png"


@pytest.fixture(scope="module")
def facelift(conformance_dir) -> FaceLiftEngine:
    engine = FaceLiftEngine(conformance_dir, device="cpu", memory_preset="cpu", preview=False)
    engine.load()
    return engine


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    from engine.io.images import load_photo

    return load_photo(PHOTO)


def _request(image, **kw) -> ReconstructionRequest:
    kw.setdefault("num_steps", 4)
    return ReconstructionRequest(image, RunOptions(**kw))


@pytest.mark.slow
def test_tiny_facelift_run_stages_views_and_gaussians(facelift):
    events: list[ProgressEvent] = []
    facelift.preview = True
    try:
        result = facelift.run(_request(PHOTO), events.append)
    finally:
        facelift.preview = False
    stages = [e.stage for e in events]
    for stage in ("preprocess", "preview", "diffusion", "gslrm"):
        assert stage in stages, stages
    assert stages.index("preview") < stages.index("diffusion") < stages.index("gslrm")
    preview = next(e.preview for e in events if e.stage == "preview")
    assert isinstance(preview, GaussiansPreview) and len(preview.gaussians) > 0
    crop = next(e.preview for e in events if e.stage == "preprocess" and e.preview is not None)
    assert isinstance(crop, CropPreview) and np.array_equal(crop.image, result.input_image)
    assert result.engine == "facelift"
    assert result.input_image.shape == (512, 512, 3)
    assert (
        result.views is not None and result.views.shape == (6, 64, 64, 3) and result.views.dtype == np.uint8
    )
    raw = result.info["unfiltered_gaussians"]
    assert len(raw) == 2 + 6 * 64 * 64  # the tiny GS-LRM sees 64x64 views
    assert 0 < len(result.gaussians) < len(raw)
    # the result is exactly the reference filters applied to the raw set
    np.testing.assert_array_equal(result.gaussians.xyz, raw.filter().xyz)
    assert {"preprocess", "diffusion", "gslrm"} <= set(result.timings)


def test_instant_engine_run():
    engine = InstantEngine()
    result = engine.run(_request(PHOTO))
    assert result.engine == "instant" and result.views is None
    assert result.input_image.shape == (512, 512, 3)
    assert len(result.gaussians) > 100


@pytest.mark.slow
def test_each_run_is_seeded_on_its_own(facelift, photo):
    """Results do not depend on what ran before (the reference CLI shared one generator)."""
    other = np.ascontiguousarray(photo[:, ::-1])
    alone = facelift.run(_request(photo, seed=7, preprocess=False, num_steps=2))
    facelift.run(_request(other, seed=7, preprocess=False, num_steps=2))
    again = facelift.run(_request(photo, seed=7, preprocess=False, num_steps=2))
    np.testing.assert_array_equal(alone.views, again.views)
    different = facelift.run(_request(photo, seed=8, preprocess=False, num_steps=2))
    assert not np.array_equal(alone.views, different.views)


def test_the_fast_sampler_is_a_run_option_and_leaves_the_reference_alone(facelift, photo):
    """--sampler fast / the panel's choice reaches the diffusion; the reference runs as before."""
    reference = facelift.run(_request(photo, preprocess=False, num_steps=3))
    fast = facelift.run(_request(photo, preprocess=False, num_steps=3, sampler="fast"))
    assert fast.info["sampler"] == "fast" and reference.info["sampler"] == "reference"
    assert np.abs(fast.views.astype(int) - reference.views.astype(int)).mean() > 1.0
    again = facelift.run(_request(photo, preprocess=False, num_steps=3))
    np.testing.assert_array_equal(reference.views, again.views)
    with pytest.raises(InputError, match="unknown sampler 'ddpm'"):
        RunOptions(sampler="ddpm")  # type: ignore[arg-type]


def test_cancel_during_diffusion(facelift, photo):
    cancel = CancelToken()

    def on_progress(ev: ProgressEvent) -> None:
        if ev.stage == "diffusion" and ev.step >= 1:
            cancel.cancel()

    with pytest.raises(Cancelled):
        facelift.run(_request(photo, preprocess=False, num_steps=10), on_progress, cancel)


def test_memory_presets_decide_whether_diffusion_is_freed(conformance_dir):
    assert FaceLiftEngine(conformance_dir, memory_preset="low").frees_diffusion_before_gslrm()
    assert FaceLiftEngine(conformance_dir, memory_preset="offload").frees_diffusion_before_gslrm()
    assert not FaceLiftEngine(conformance_dir, memory_preset="full").frees_diffusion_before_gslrm()
    with pytest.raises(InputError, match="memory preset"):
        FaceLiftEngine(conformance_dir, memory_preset="huge")


def test_freeing_diffusion_before_gslrm_then_reloading(conformance_dir, photo, monkeypatch):
    engine = FaceLiftEngine(conformance_dir, device="cpu", memory_preset="cpu", preview=False)
    monkeypatch.setattr(engine, "frees_diffusion_before_gslrm", lambda: True)
    result = engine.run(_request(photo, preprocess=False, num_steps=1))
    assert result.info["freed_diffusion"] is True and engine._mv is None and engine._lrm is not None
    engine.load()  # loads again what it freed
    assert engine._mv is not None
    engine.unload()
    assert engine._lrm is None


def test_out_of_memory_frees_models_and_suggests_a_lower_preset(conformance_dir, photo, monkeypatch):
    import torch

    engine = FaceLiftEngine(conformance_dir, device="auto", memory_preset="auto", preview=False)
    engine.load()
    assert engine._mv is not None and engine._lrm is not None

    def boom(*args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(engine._lrm, "reconstruct", boom)
    with pytest.raises(OutOfMemory) as info:
        engine.run(_request(photo, preprocess=False, num_steps=1))
    msg = str(info.value)
    assert "GS-LRM" in msg and 'memory preset "low"' in msg and "\n" not in msg
    assert info.value.suggested_preset == "low"
    assert engine._mv is None and engine._lrm is None  # freed


def test_make_engine_prefers_facelift_when_weights_are_found(conformance_dir, tmp_path, monkeypatch):
    monkeypatch.delenv("FACELIFT_WEIGHTS", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    engine = make_engine(EngineConfig(weights_dir=conformance_dir))
    assert isinstance(engine, FaceLiftEngine) and str(conformance_dir) in engine.describe()
    engine = make_engine(EngineConfig())
    assert isinstance(engine, InstantEngine)
    assert (
        "no FaceLift weights found" in engine.describe() and "FACELIFT_WEIGHTS not set" in engine.describe()
    )
    monkeypatch.setenv("FACELIFT_WEIGHTS", str(conformance_dir))
    assert isinstance(make_engine(EngineConfig()), FaceLiftEngine)
    assert isinstance(make_engine(EngineConfig("instant")), InstantEngine)  # asked for: no lookup


def test_make_engine_keeps_the_config_and_runs_never_change_it(conformance_dir, photo):
    config = EngineConfig("facelift", conformance_dir, device="cpu", memory_preset="cpu")
    engine = make_engine(config)
    assert isinstance(engine, FaceLiftEngine) and engine.config == config
    engine.preview = False
    engine.run(_request(photo, preprocess=False, num_steps=1))
    assert engine.config == config
    with pytest.raises(AttributeError):
        engine.config.device = "cuda"  # type: ignore[misc]
    engine.unload()


def test_engine_import_pulls_in_no_gui_toolkit_or_torch():
    import subprocess
    import sys

    code = (
        "import sys, engine.engines, engine.outputs\n"
        "bad = [m for m in ('PySide6', 'vispy', 'torch', 'diffusers', 'mediapipe') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_weights_are_looked_up_when_not_given(conformance_dir, tmp_path, monkeypatch):
    """A config without a folder: FACELIFT_WEIGHTS and the user data folder decide."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("FACELIFT_WEIGHTS", raising=False)
    with pytest.raises(WeightsError, match="no FaceLift weights found"):
        make_engine(EngineConfig("facelift"))
    monkeypatch.setenv("FACELIFT_WEIGHTS", str(conformance_dir))
    assert make_engine(EngineConfig("facelift")).weights_dir == conformance_dir
