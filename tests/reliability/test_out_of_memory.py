"""Reliability: running out of memory during diffusion or GS-LRM (torch.OutOfMemoryError injected
into the networks' own forward passes, so the engine's real handling runs).

Each case: engine.api.OutOfMemory, one line suggesting the lower memory preset; every model is
freed (the engine drops them AND they are garbage -- weak references die, even while the error
is held); the next run on the same engine gives the same Gaussians as a clean run. Through the
engine API, the CLI (exit 2: the only input failed) and the desktop app (the failure dialog says
what to pick in the window's Parameters; picking it, the next run finishes).
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from reliability_harness import CliRun, assert_message, assert_nothing_partial, assert_one_line_error

from engine import cli
from engine.api import OutOfMemory, ReconstructionRequest, ReconstructionResult
from engine.engines import FaceLiftEngine
from engine.gaussians import Gaussians
from engine.settings import MEMORY_PRESETS, RunOptions

REPO = Path(__file__).resolve().parents[2]
PORTRAIT = REPO / "resources" / "samples" / "astronaut.png"
STEPS = 2


def _unet_class() -> type:
    from diffusers import UNet2DConditionModel

    return UNet2DConditionModel


def _transformer_block_class() -> type:
    from engine.gslrm.model import TransformerBlock

    return TransformerBlock


STAGES: dict[str, tuple[Callable[[], type], int, str]] = {
    # stage: (network class whose forward fails, failing call number, words of the message)
    "diffusion": (_unet_class, 2, "generating the six views"),  # the UNet at denoising step 2
    "gslrm": (_transformer_block_class, 1, "GS-LRM"),  # the first transformer block
}


@contextmanager
def oom_at(cls: type, call: int) -> Iterator[list[int]]:
    """``cls.forward`` raises torch.OutOfMemoryError on its ``call``-th call (counted in the list)."""
    import torch

    original = cls.forward
    calls = [0]

    def forward(module: Any, *args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] == call:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB (injected)")
        return original(module, *args, **kwargs)

    cls.forward = forward  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        cls.forward = original  # type: ignore[method-assign]


def _request(conformance_dir: Path) -> ReconstructionRequest:
    from PIL import Image

    image = np.asarray(
        Image.open(conformance_dir / "mvdiffusion" / "pipeline_run" / "input.png").convert("RGB")
    )
    return ReconstructionRequest(image, RunOptions(preprocess=False, num_steps=STEPS))


def _same_gaussians(a: Gaussians, b: Gaussians) -> None:
    assert len(a) == len(b)
    for name in ("xyz", "sh_dc", "log_scales", "quats", "opacity_logits"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=0, atol=1e-6, err_msg=name)


@pytest.fixture(scope="module")
def clean_run(conformance_dir: Path) -> ReconstructionResult:
    """An uninterrupted run on a fresh engine: what every run after an OOM must give again."""
    return FaceLiftEngine(conformance_dir, device="auto", preview=False).run(_request(conformance_dir))


@pytest.mark.parametrize("stage", list(STAGES))
def test_engine_oom_frees_models_and_next_run_matches(
    stage: str, conformance_dir: Path, clean_run: ReconstructionResult
) -> None:
    cls_of, call, words = STAGES[stage]
    engine = FaceLiftEngine(conformance_dir, device="auto", preview=False)
    engine.load()
    models = [weakref.ref(engine._mv.components.unet), weakref.ref(engine._lrm._model)]
    with oom_at(cls_of(), call) as calls, pytest.raises(OutOfMemory) as info:
        engine.run(_request(conformance_dir))
    assert calls[0] == call  # it failed where it was injected
    message = str(info.value)
    assert_message(message, "out of memory", words, 'memory preset "low"', "freed")
    assert info.value.suggested_preset == "low"
    assert engine._mv is None and engine._lrm is None
    gc.collect()
    assert [ref() for ref in models] == [None, None], "a model is still referenced after the OOM"

    again = engine.run(_request(conformance_dir))  # loads again what it freed
    _same_gaussians(again.gaussians, clean_run.gaussians)
    np.testing.assert_array_equal(again.views, clean_run.views)


def test_no_lower_preset_on_an_explicit_cpu_device(conformance_dir: Path) -> None:
    """`--device cpu` cannot use the GPU presets: the message does not suggest one."""
    engine = FaceLiftEngine(conformance_dir, device="cpu", preview=False)
    with oom_at(_transformer_block_class(), 1), pytest.raises(OutOfMemory) as info:
        engine.run(_request(conformance_dir))
    assert info.value.suggested_preset is None
    assert_message(str(info.value), "out of memory", "close other programs")
    assert 'preset "' not in str(info.value)


@pytest.mark.parametrize("stage", list(STAGES))
def test_cli_oom_one_line_exit_2_nothing_written(
    stage: str, conformance_dir: Path, tmp_path: Path, capsys, isolated_home: Path
) -> None:
    cls_of, call, words = STAGES[stage]
    photo = conformance_dir / "mvdiffusion" / "pipeline_run" / "input.png"
    out = tmp_path / "out"
    argv = [
        "reconstruct",
        str(photo),
        "-o",
        str(out),
        "--engine",
        "facelift",
        "--weights",
        str(conformance_dir),
    ]
    with oom_at(cls_of(), call):
        rc = cli.main([*argv, "--steps", str(STEPS), "--no-preprocess", "--frames", "0", "--size", "64"])
    captured = capsys.readouterr()
    line = assert_one_line_error(
        CliRun(rc, captured.out, captured.err), 2, "out of memory", words, "--memory-preset low"
    )
    assert str(photo) in line
    assert not out.exists()
    assert_nothing_partial(tmp_path)


def test_gui_oom_dialog_names_the_window_setting_then_run_succeeds(
    gui_window, qtbot, conformance_dir: Path, monkeypatch
) -> None:
    monkeypatch.setenv("FACELIFT_WEIGHTS", str(conformance_dir))
    window = gui_window()
    assert window.parameters_panel.facelift_available
    params = window.parameters_panel
    params.engine.setCurrentIndex(params.engine.findData("facelift"))
    params.steps.setValue(params.steps.minimum())
    assert params.parameters().config.memory_preset == "auto"
    assert window.open_photo(PORTRAIT)

    with oom_at(_unet_class(), 2), qtbot.waitSignal(window.run_failed, timeout=120_000) as failed:
        assert window.reconstruct()
    failure = failed.args[0]
    assert failure.out_of_memory and failure.suggested_preset == "low"
    assert_message(failure.reason, "out of memory", "freed")
    dialog = window.last_failure_dialog
    assert dialog is not None and dialog.hint_label.isVisibleTo(dialog)
    hint = dialog.hint_label.text()
    assert "Parameters" in hint and MEMORY_PRESETS["low"].label in hint
    assert "--" not in hint and "--memory-preset" not in failure.reason  # GUI words, not CLI flags
    engines = list(window.engine_worker._engines.values())
    assert all(e._mv is None and e._lrm is None for e in engines)  # the worker's engine was freed
    assert window.result is None and not window.engine_worker.running

    params.memory.setCurrentIndex(params.memory.findData("low"))  # what the dialog says to pick
    with qtbot.waitSignal(window.run_finished, timeout=120_000) as finished:
        assert window.reconstruct()
    result = finished.args[0]
    assert result.engine == "facelift" and result.views is not None and len(result.gaussians) > 0
