"""Cancel at every stage (issue 9): the run stops at once, the engine is idle again, and the
next run gives exactly what an uninterrupted run on a fresh engine gives.

FaceLift runs use the tiny conformance weights in the release layout (4 diffusion steps, a
2-layer GS-LRM), so "every step" really is every step; the instant engine runs as shipped.
Cancels are injected deterministically: a progress callback that cancels on a given event
(CancelAt), or a hook inside a stage's work (WorkLog.on).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
from cancel_cases import (
    ASTRONAUT,
    CancelAt,
    ProgressGate,
    WorkLog,
    assert_same_result,
    cancel_during,
    engine_threads,
    interrupt_cli,
    snapshot,
)
from reliability_harness import assert_nothing_partial, leftovers

from engine.api import Cancelled, CancelToken, ReconstructionRequest, ReconstructionResult
from engine.engines import FaceLiftEngine, InstantEngine
from engine.outputs import write_outputs
from engine.settings import RunOptions

STEPS = 4  # diffusion steps of the FaceLift runs here
LAYERS = 2  # transformer layers of the tiny GS-LRM


def _facelift_request(image: object = ASTRONAUT, **kw: object) -> ReconstructionRequest:
    kw.setdefault("num_steps", STEPS)
    return ReconstructionRequest(image, RunOptions(**kw))  # type: ignore[arg-type]


def _instant_request() -> ReconstructionRequest:
    return ReconstructionRequest(ASTRONAUT)


@pytest.fixture(scope="module")
def facelift_reference(conformance_dir: Path) -> ReconstructionResult:
    """An uninterrupted FaceLift run on a fresh engine: what every run after a cancel must give."""
    return FaceLiftEngine(conformance_dir, device="cpu").run(_facelift_request())


@pytest.fixture(scope="module")
def facelift_engine(conformance_dir: Path) -> FaceLiftEngine:
    """One engine that every FaceLift cancel case cancels and then runs again."""
    return FaceLiftEngine(conformance_dir, device="cpu")


def _setup(
    engine: FaceLiftEngine, reference: ReconstructionResult, front_end: bool, monkeypatch: pytest.MonkeyPatch
) -> ReconstructionRequest:
    """The request of a case. Cases about diffusion and GS-LRM skip the front end (face search,
    matting, instant preview: ~1 s a run): they feed the reference's own 512x512 crop with
    preprocess=False and no preview, which gives the same views and Gaussians."""
    if front_end:
        return _facelift_request()
    monkeypatch.setattr(engine, "preview", False)
    return _facelift_request(image=reference.input_image, preprocess=False)


@pytest.fixture(scope="module")
def instant_reference() -> ReconstructionResult:
    return InstantEngine().run(_instant_request())


@pytest.fixture(scope="module")
def instant_engine() -> InstantEngine:
    return InstantEngine()


# ---------------------------------------------------------------------------------------------
# FaceLift engine: preprocess, preview, each diffusion step, each GS-LRM layer
# ---------------------------------------------------------------------------------------------

# (cancel event stage, step) -> what must not have run: {work name: calls allowed}
FACELIFT_POINTS: list[tuple[str, int, dict[str, int]]] = [
    ("preprocess", 0, {"face search": 0, "matting": 0, "instant": 0, "encode": 0}),
    ("preview", 1, {"encode": 0, "denoise": 0}),
    ("diffusion", 0, {"encode": 0, "denoise": 0}),
    *[("diffusion", k, {"denoise": k, "decode": 0, "gslrm block": 0}) for k in range(1, STEPS + 1)],
    *[("gslrm", k, {"gslrm block": k, "gslrm heads": 0}) for k in range(1, LAYERS + 1)],
]


@pytest.mark.parametrize(
    ("stage", "step", "limits"), FACELIFT_POINTS, ids=[f"{s}-{k}" for s, k, _ in FACELIFT_POINTS]
)
def test_facelift_cancel_at_event_then_next_run_is_unchanged(
    facelift_engine: FaceLiftEngine,
    facelift_reference: ReconstructionResult,
    monkeypatch: pytest.MonkeyPatch,
    stage: str,
    step: int,
    limits: dict[str, int],
) -> None:
    engine = facelift_engine
    request = _setup(engine, facelift_reference, stage in ("preprocess", "preview"), monkeypatch)
    models_before = (engine._mv, engine._lrm)
    threads_before = engine_threads()
    work = WorkLog(monkeypatch)
    token = CancelToken()
    at = CancelAt(token, stage, step)

    with pytest.raises(Cancelled):
        engine.run(request, at, token)

    assert at.hit
    assert at.after() == [], f"progress went on after the cancel: {at.after()}"
    for name, allowed in limits.items():
        assert work.count(name) == allowed, f"{name}: ran {work.count(name)}x, allowed {allowed}"
    if stage in ("preprocess", "preview", "diffusion"):
        assert work.count("gslrm block") == 0  # GS-LRM never starts after an earlier cancel
    _assert_idle(engine, models_before)
    assert engine_threads() <= threads_before

    work.clear()
    again = engine.run(request, cancel=CancelToken())
    assert work.count("denoise") == STEPS and work.count("gslrm block") == LAYERS
    assert_same_result(again, facelift_reference)


def _assert_idle(engine: FaceLiftEngine, models_before: tuple[object, object]) -> None:
    """The models the engine had are still loaded and usable (or were never loaded)."""
    mv_before, lrm_before = models_before
    if lrm_before is not None:
        assert engine._lrm is lrm_before and engine._lrm._model is not None
    if mv_before is not None and not engine.frees_diffusion_before_gslrm():
        assert engine._mv is mv_before and engine._mv._comps is not None


# Cancels made *inside* a stage's work (not on a progress event): the stage's own checks stop it.
INSIDE_POINTS: list[tuple[str, int, dict[str, int]]] = [
    ("face search", 1, {"matting": 0, "instant": 0}),
    ("matting", 1, {"instant": 0, "encode": 0}),
    ("instant", 1, {"encode": 0}),  # the instant preview
    ("encode", 1, {"denoise": 0, "decode": 0}),
    ("gslrm block", 1, {"gslrm block": 1, "gslrm heads": 0}),
]


@pytest.mark.parametrize(
    ("work_name", "nth", "limits"), INSIDE_POINTS, ids=[f"{w}-{n}" for w, n, _ in INSIDE_POINTS]
)
def test_facelift_cancel_inside_a_stage_stops_before_the_next_unit_of_work(
    facelift_engine: FaceLiftEngine,
    facelift_reference: ReconstructionResult,
    monkeypatch: pytest.MonkeyPatch,
    work_name: str,
    nth: int,
    limits: dict[str, int],
) -> None:
    engine = facelift_engine
    front_end = work_name in ("face search", "matting", "instant")
    request = _setup(engine, facelift_reference, front_end, monkeypatch)
    work = WorkLog(monkeypatch)
    token = CancelToken()
    work.on[work_name] = cancel_during(token, nth)
    events: list[tuple[str, int]] = []

    with pytest.raises(Cancelled):
        engine.run(request, lambda e: events.append((e.stage, e.step)), token)

    for name, allowed in limits.items():
        assert work.count(name) == allowed, f"{name}: ran {work.count(name)}x, allowed {allowed}"
    if work_name != "gslrm block":
        assert work.count("gslrm block") == 0 and not any(stage == "gslrm" for stage, _ in events)
    work.clear()
    assert_same_result(engine.run(request), facelift_reference)


def test_gslrm_checks_cancel_between_every_layer_of_a_deep_model() -> None:
    """GS-LRM has 24 layers (~1 min each on a CPU): a cancel during layer k stops before k+1.

    A randomly initialised 6-layer model (same code as the released one) at 64x64 views.
    """
    import torch

    from engine.gslrm.config import GSLRMConfig
    from engine.gslrm.model import GSLRM
    from engine.gslrm.reconstructor import GSLRMReconstructor

    model = GSLRM(GSLRMConfig(d=32, d_head=16, n_layer=6, image_size=64))
    model.reset_parameters(torch.Generator().manual_seed(0))
    model.eval().requires_grad_(False)
    lrm = GSLRMReconstructor(model, torch.device("cpu"), "fp32")
    views = np.random.default_rng(0).integers(0, 256, (6, 64, 64, 3), dtype=np.uint8)
    reference = lrm.reconstruct(views, apply_filter=False)

    ran: list[int] = []
    for k in range(1, 7):
        token = CancelToken()
        ran.clear()

        def during(_module: object, _inputs: object, k: int = k, token: CancelToken = token) -> None:
            ran.append(len(ran) + 1)
            if len(ran) == k:
                token.cancel()  # the user presses Cancel while layer k runs

        hooks = [layer.register_forward_pre_hook(during) for layer in model.transformer_layers]
        try:
            with pytest.raises(Cancelled):
                lrm.reconstruct(views, apply_filter=False, cancel=token)
        finally:
            for h in hooks:
                h.remove()
        assert ran == list(range(1, k + 1)), f"cancel during layer {k}: layers {ran} ran"

    again = lrm.reconstruct(views, apply_filter=False)  # and the model still works, unchanged
    np.testing.assert_array_equal(again.xyz, reference.xyz)
    np.testing.assert_array_equal(again.opacity_logits, reference.opacity_logits)


# ---------------------------------------------------------------------------------------------
# Instant engine: preprocess and each of its stages
# ---------------------------------------------------------------------------------------------

INSTANT_POINTS: list[tuple[str, int]] = [("preprocess", 0), *[("instant", k) for k in range(6)]]


@pytest.mark.parametrize(("stage", "step"), INSTANT_POINTS, ids=[f"{s}-{k}" for s, k in INSTANT_POINTS])
def test_instant_cancel_at_each_stage_then_next_run_is_unchanged(
    instant_engine: InstantEngine,
    instant_reference: ReconstructionResult,
    monkeypatch: pytest.MonkeyPatch,
    stage: str,
    step: int,
) -> None:
    loaded_before = instant_engine._recon
    token = CancelToken()
    at = CancelAt(token, stage, step)
    with pytest.raises(Cancelled):
        instant_engine.run(_instant_request(), at, token)
    assert at.after() == []
    assert loaded_before is None or instant_engine._recon is loaded_before
    assert_same_result(instant_engine.run(_instant_request()), instant_reference)


# ---------------------------------------------------------------------------------------------
# Export: every step of write_outputs
# ---------------------------------------------------------------------------------------------

FRAMES = 3
WRITE_POINTS: list[tuple[str, int]] = [
    ("write", 0),  # input.png
    ("write", 1),  # multiview.png
    ("write", 2),  # gaussians.ply
    ("write", 3),  # output.png
    ("write", 4),  # turntable.mp4
    *[("turntable", i) for i in range(1, FRAMES)],  # each frame of the turntable
    ("write", 5),  # moving the outputs into place
]


@pytest.fixture(scope="module")
def export_result(facelift_reference: ReconstructionResult) -> ReconstructionResult:
    """The reference result with output.png rendered from the filtered set: the random tiny
    GS-LRM's unfiltered Gaussians are huge splats that take seconds to rasterise on a CPU."""
    info = {**facelift_reference.info, "unfiltered_gaussians": facelift_reference.gaussians}
    return dataclasses.replace(facelift_reference, info=info)


def _write(result: ReconstructionResult, out: Path, **kw: object) -> dict[str, Path]:
    return write_outputs(result, out, turntable_frames=FRAMES, render_size=32, overwrite=True, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def earlier_outputs(export_result: ReconstructionResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An output folder from an earlier run (plus a file of the user's), to copy per case."""
    folder = tmp_path_factory.mktemp("earlier") / "earlier"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    _write(export_result, folder)
    return folder


@pytest.mark.parametrize(("stage", "step"), WRITE_POINTS, ids=[f"{s}-{k}" for s, k in WRITE_POINTS])
def test_export_cancel_at_each_step_leaves_nothing_new(
    export_result: ReconstructionResult, earlier_outputs: Path, tmp_path: Path, stage: str, step: int
) -> None:
    # into a new folder: nothing at all appears
    fresh = tmp_path / "fresh"
    token = CancelToken()
    at = CancelAt(token, stage, step)
    with pytest.raises(Cancelled):
        _write(export_result, fresh, on_progress=at, cancel=token)
    assert at.hit and at.after() == []
    assert list(tmp_path.iterdir()) == []  # no folder, no staging folder, no temp file

    # over an earlier output folder: it stays exactly as it was
    earlier = tmp_path / "earlier"
    shutil.copytree(earlier_outputs, earlier)
    before = snapshot(earlier)
    token = CancelToken()
    with pytest.raises(Cancelled):
        _write(export_result, earlier, on_progress=CancelAt(token, stage, step), cancel=token)
    assert snapshot(earlier) == before
    assert [p.name for p in tmp_path.iterdir()] == ["earlier"]

    # and the same write then succeeds
    written = _write(export_result, fresh)
    assert sorted(written) == sorted(n for n in before if n != "notes.txt")
    assert_nothing_partial(tmp_path)


def test_export_cancel_while_rendering_output_png(
    export_result: ReconstructionResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cancel between the six renders of output.png stops before the next render."""
    import engine.render as render_mod

    token = CancelToken()
    calls: list[int] = []
    real = render_mod.render

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) == 3:
            token.cancel()
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(render_mod, "render", counting)
    with pytest.raises(Cancelled):
        _write(export_result, tmp_path / "out", cancel=token)
    assert len(calls) == 3
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------------------------
# GUI: the real window, real engines (FaceLift on the tiny weights), the user presses Cancel
# ---------------------------------------------------------------------------------------------

GUI_STEPS = 10  # the window's minimum
GUI_POINTS = [("preprocess", 0), ("diffusion", 2), ("gslrm", 1)]


@pytest.mark.slow
def test_gui_cancel_at_each_stage_returns_to_idle_and_keeps_the_result(
    qtbot,  # type: ignore[no-untyped-def]
    gui_window,
    conformance_dir: Path,
    facelift_engine: FaceLiftEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from PySide6.QtCore import Qt

    from engine.mvdiffusion.pipeline import MultiViewDiffusion
    from facelift_desktop.panels.progress_panel import STAGE_TITLES
    from facelift_desktop.settings import Parameters

    # what an uninterrupted run gives (this module's engine gives what a fresh one does)
    reference = facelift_engine.run(_facelift_request(num_steps=GUI_STEPS))

    monkeypatch.setenv("FACELIFT_WEIGHTS", str(conformance_dir))
    window = gui_window()
    assert window.weights_dir == conformance_dir and window.parameters_panel.facelift_available
    params = window.parameters_panel.parameters()
    window.parameters_panel.set_parameters(
        Parameters(
            dataclasses.replace(params.config, engine="facelift", device="cpu"),
            dataclasses.replace(params.options, num_steps=GUI_STEPS),
        )
    )
    assert window.open_photo(ASTRONAUT)

    def run_to_the_end() -> ReconstructionResult:
        with qtbot.waitSignal(window.run_finished, timeout=120_000) as done:
            assert window.reconstruct()
        return done.args[0]  # type: ignore[no-any-return]

    # The window's first run: Cancel pressed while the diffusion models load. GS-LRM is then
    # never loaded; the next run loads it and gives the uninterrupted result.
    loading, go_on = threading.Event(), threading.Event()
    real_from_weights = MultiViewDiffusion.from_weights

    def slow_from_weights(*args: object, **kwargs: object) -> object:
        loading.set()
        go_on.wait(30)
        return real_from_weights(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(MultiViewDiffusion, "from_weights", staticmethod(slow_from_weights))
    try:
        with qtbot.waitSignal(window.run_cancelled, timeout=60_000):
            assert window.reconstruct()
            qtbot.waitUntil(loading.is_set, timeout=60_000)
            qtbot.waitUntil(lambda: window.progress_panel.stage_label.text() == STAGE_TITLES["load"])
            qtbot.mouseClick(window.progress_panel.cancel_button, Qt.MouseButton.LeftButton)
            go_on.set()
    finally:
        go_on.set()
    assert window.result is None and window.count_label.text() == "Gaussians: —"
    assert window.progress_panel.reconstruct_button.isEnabled()
    (engine,) = window.engine_worker._engines.values()
    assert engine._mv is not None and engine._lrm is None  # stopped before loading GS-LRM

    first = run_to_the_end()
    assert first.info["num_steps"] == GUI_STEPS
    assert_same_result(first, reference)
    (engine,) = window.engine_worker._engines.values()
    models = (engine._mv, engine._lrm)
    threads, fds = len(os.listdir("/proc/self/task")), len(os.listdir("/proc/self/fd"))

    shown = first
    for stage, step in GUI_POINTS:
        gate = ProgressGate(window.engine_worker.progress, stage, step)
        try:
            with qtbot.waitSignal(window.run_cancelled, timeout=60_000):
                assert window.reconstruct()
                qtbot.waitUntil(gate.reached.is_set, timeout=60_000)
                qtbot.waitUntil(
                    lambda s=stage: window.progress_panel.stage_label.text() == STAGE_TITLES[s],
                    timeout=10_000,
                )
                assert window.progress_panel.cancel_button.isEnabled()
                qtbot.mouseClick(window.progress_panel.cancel_button, Qt.MouseButton.LeftButton)
                assert window.status_message.text() == "Cancelling…"
                gate.release.set()
        finally:
            gate.close()
        # idle: Reconstruct on, Cancel off, "cancelled" said, the previous result still shown
        assert not window.engine_worker.running
        assert window.progress_panel.reconstruct_button.isEnabled() and window.reconstruct_action.isEnabled()
        assert not window.progress_panel.cancel_button.isEnabled() and not window.cancel_action.isEnabled()
        assert window.progress_panel.stage_label.text() == "Cancelled"
        assert "cancelled" in window.status_message.text().lower()
        assert window.result is shown
        assert window.count_label.text() == f"Gaussians: {len(shown.gaussians):,}"
        assert window.views_strip.views is not None
        np.testing.assert_array_equal(window.views_strip.views, shown.views)
        assert window.last_failure_dialog is None
        (same_engine,) = window.engine_worker._engines.values()
        assert same_engine is engine and (engine._mv, engine._lrm) == models

        shown = run_to_the_end()
        assert_same_result(shown, first)
    # cancelled runs leave no thread or open file behind
    assert len(os.listdir("/proc/self/task")) <= threads and len(os.listdir("/proc/self/fd")) <= fds


@pytest.fixture
def gl_window(qtbot, isolated_home: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A real MainWindow WITH its VisPy viewport and the real engine factory."""
    from facelift_desktop.main_window import MainWindow
    from facelift_desktop.settings import AppSettings
    from viewer.canvas import configure_vispy

    configure_vispy()
    window = MainWindow(AppSettings.at_path(tmp_path / "settings.ini"), use_gl=True)
    window.modal_dialogs = False
    qtbot.addWidget(window)
    window.resize(1100, 700)
    window.show()
    qtbot.waitExposed(window)
    yield window
    window.shutdown()


@pytest.mark.gl
@pytest.mark.slow
def test_gui_turntable_export_cancelled_half_way_leaves_the_earlier_file(
    qtbot,  # type: ignore[no-untyped-def]
    gl_window,
    tmp_path: Path,
) -> None:
    window = gl_window
    assert window.open_photo(ASTRONAUT)
    with qtbot.waitSignal(window.run_finished, timeout=120_000):
        assert window.reconstruct()  # the instant engine: no weights in this home
    window.viewport.viewer.settle()
    out = tmp_path / "exports"
    out.mkdir()
    target = out / "astronaut_turntable.mp4"
    target.write_bytes(b"an earlier export")

    frames = 12
    job = window.start_turntable_export(target, frames=frames, size=128, overwrite=True)
    seen: list[int] = []

    def on_progress(event) -> None:  # type: ignore[no-untyped-def]
        seen.append(event.step)
        if event.step == frames // 2:
            window.cancel_export()  # the user presses "Cancel export" half-way

    job.progress.connect(on_progress)
    with qtbot.waitSignal(job.cancelled, timeout=60_000):
        pass
    assert seen == list(range(1, frames // 2 + 1))
    assert target.read_bytes() == b"an earlier export"
    assert [p.name for p in out.iterdir()] == [target.name]  # no temp file left
    assert window.progress_panel.stage_label.text() == "Export cancelled"
    assert "no file was written" in window.status_message.text()
    assert window.export_video_action.isEnabled() and window.progress_panel.reconstruct_button.isEnabled()

    with qtbot.waitSignal(window.export_done, timeout=120_000):
        window.start_turntable_export(target, frames=frames, size=128, overwrite=True)
    import imageio_ffmpeg

    assert imageio_ffmpeg.count_frames_and_secs(str(target))[0] == frames
    assert [p.name for p in out.iterdir()] == [target.name]


# ---------------------------------------------------------------------------------------------
# CLI: Ctrl+C
# ---------------------------------------------------------------------------------------------


def _assert_interrupted(rc: int, stderr: str, out: Path) -> None:
    assert rc == 130, f"exit {rc}; stderr:\n{stderr}"
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr
    lines = [ln for ln in stderr.replace("\r", "\n").splitlines() if ln.startswith("facelift:")]
    assert lines[-1] == "facelift: interrupted", stderr
    assert not [ln for ln in lines if "error" in ln], stderr
    assert not (out / "astronaut").exists() and leftovers(out) == []


@pytest.mark.slow
def test_ctrl_c_during_diffusion_exits_130_with_nothing_written(
    conformance_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    args = ["reconstruct", str(ASTRONAUT), "-o", str(out), "--engine", "facelift"]
    args += ["--weights", str(conformance_dir), "--device", "cpu", "--steps", "200", "--frames", "0"]
    rc, stderr = interrupt_cli(args, wait_for="diffusion 3/200")
    _assert_interrupted(rc, stderr, out)
    assert not out.exists() or list(out.iterdir()) == []


@pytest.mark.slow
def test_ctrl_c_during_the_turntable_exits_130_with_no_partial_folder(
    conformance_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    args = ["reconstruct", str(ASTRONAUT), "-o", str(out), "--engine", "facelift"]
    args += ["--weights", str(conformance_dir), "--device", "cpu", "--steps", "4", "--size", "32"]
    rc, stderr = interrupt_cli(args, wait_for="turntable 3/150")
    _assert_interrupted(rc, stderr, out)
    assert not out.exists() or list(out.iterdir()) == []  # no staging folder, no temp video
