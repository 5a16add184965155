"""Cancel at every step of writing the outputs, in the window (the user presses Cancel) and by
Ctrl+C on the command line (issue 9): nothing partial is left, an earlier output is untouched, the
window is idle again and keeps its result. The engines' own cancel points: test_cancel.py."""

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
    assert_same_result,
    facelift_request,
    interrupt_cli,
    snapshot,
)
from reliability_harness import assert_nothing_partial, leftovers

from engine.api import Cancelled, CancelToken, ReconstructionResult
from engine.engines import FaceLiftEngine
from engine.outputs import OutputSpec, write_outputs

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
    spec = OutputSpec(turntable_frames=FRAMES, render_size=32)
    return write_outputs(result, out, spec, overwrite=True, **kw)  # type: ignore[arg-type]


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
    reference = facelift_engine.run(facelift_request(num_steps=GUI_STEPS))

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
    from facelift_desktop.turntable import TurntableSpec

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
    job = window.start_turntable_export(TurntableSpec(target, frames=frames, size=128, overwrite=True))
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
        window.start_turntable_export(TurntableSpec(target, frames=frames, size=128, overwrite=True))
    import imageio_ffmpeg

    assert imageio_ffmpeg.count_frames_and_secs(str(target))[0] == frames
    assert [p.name for p in out.iterdir()] == [target.name]


# ---------------------------------------------------------------------------------------------
# CLI: Ctrl+C
# ---------------------------------------------------------------------------------------------


def _assert_interrupted(
    rc: int, stderr: str, out: Path, *, code: int = 130, last: str = "interrupted"
) -> None:
    assert rc == code, f"exit {rc}; stderr:\n{stderr}"
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr
    lines = [ln for ln in stderr.replace("\r", "\n").splitlines() if ln.startswith("facelift:")]
    assert lines[-1] == f"facelift: {last}", stderr
    assert not [ln for ln in lines if "error" in ln], stderr
    assert not (out / "astronaut").exists() and leftovers(out) == []


@pytest.mark.slow
@pytest.mark.parametrize(
    ("run_args", "wait_for"),
    [
        (["--steps", "200", "--frames", "0"], "diffusion 3/200"),
        (["--steps", "4", "--size", "32"], "turntable 3/150"),
    ],
    ids=["during_diffusion", "during_the_turntable"],
)
def test_ctrl_c_exits_130_with_nothing_written(
    conformance_dir: Path, tmp_path: Path, run_args: list[str], wait_for: str
) -> None:
    out = tmp_path / "out"
    args = ["reconstruct", str(ASTRONAUT), "-o", str(out), "--engine", "facelift"]
    args += ["--weights", str(conformance_dir), "--device", "cpu", *run_args]
    rc, stderr = interrupt_cli(args, wait_for=wait_for)
    _assert_interrupted(rc, stderr, out)
    assert not out.exists() or list(out.iterdir()) == []  # no staging folder, no temp video


@pytest.mark.slow
def test_ctrl_c_during_an_animation_exits_130_with_no_video_and_no_ply_sequence(
    instant_head, tmp_path: Path
) -> None:
    from animate_drivers import write_video

    driver = write_video([instant_head.image] * 40, tmp_path / "driver.mp4")
    out, seq = tmp_path / "out", tmp_path / "out" / "plys"
    out.mkdir()
    args = ["animate", str(instant_head.folder), "--driver", str(driver), "-o", str(out / "anim.mp4")]
    rc, stderr = interrupt_cli([*args, "--size", "64", "--ply-sequence", str(seq)], wait_for="3/40")
    _assert_interrupted(rc, stderr, out)
    assert list(out.iterdir()) == []  # no video, no temp video, no staged PLY folder


@pytest.mark.slow
def test_sigterm_during_an_animation_exits_143_with_no_video_and_no_ply_sequence(
    instant_head, tmp_path: Path
) -> None:
    """``kill PID`` (SIGTERM to facelift alone, not its ffmpeg) mid-animation: facelift stops its
    encoder and removes the .tmp- video and the staged PLY folder, like Ctrl+C."""
    from animate_drivers import write_video

    driver = write_video([instant_head.image] * 40, tmp_path / "driver.mp4")
    out, seq = tmp_path / "out", tmp_path / "out" / "plys"
    out.mkdir()
    args = ["animate", str(instant_head.folder), "--driver", str(driver), "-o", str(out / "anim.mp4")]
    args += ["--size", "64", "--ply-sequence", str(seq)]
    rc, stderr = interrupt_cli(args, wait_for="3/40", terminate=True)
    _assert_interrupted(rc, stderr, out, code=143, last="terminated")
    assert list(out.iterdir()) == []  # no video, no temp video, no staged PLY folder
