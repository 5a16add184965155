"""Outputs rows of the reliability matrix (issue 9), part 3: the window's exports into an
unwritable or full folder, then a good export; replacing files only when asked; the turntable job's
failures and the GL viewport's PNG/turntable."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from outputs_cases import (
    DENIED,
    NO_SPACE,
    earlier,
    fault_while_writing,
    limit_ffmpeg,
    snapshot,
    unwritable,
)
from reliability_harness import assert_message, assert_nothing_partial

from engine.api import OutputError, ReconstructionResult
from engine.io.ply import save_ply

# ==============================================================================================
# 5. The GUI: exports into an unwritable or full folder, then a good export
# ==============================================================================================


def _gui_with(gui_window, result: ReconstructionResult, qtbot):  # type: ignore[no-untyped-def]
    window = gui_window()
    with qtbot.waitSignal(window.result_changed, timeout=5000):
        window.engine_worker.finished.emit(result)  # as the worker delivers a finished run
    return window


def _choose(monkeypatch, path: Path) -> list[object]:  # type: ignore[no-untyped-def]
    """The export dialogs: the Export dialog accepted as it opens, the save dialog answers ``path``;
    records the save dialog's options."""
    from PySide6.QtWidgets import QFileDialog

    from facelift_desktop.export_dialog import ExportDialog

    asked: list[object] = []

    def save_name(*args, **kwargs):  # type: ignore[no-untyped-def]
        asked.append(kwargs.get("options", args[4] if len(args) > 4 else None))
        return str(path), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_name)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(path))
    monkeypatch.setattr(ExportDialog, "exec", lambda self: 1)
    return asked


GUI_EXPORTS = {  # kind: (how the window is asked, file name, status word, bytes before a disk fault)
    "ply": ("export_ply_dialog", "gaussians.ply", "PLY", 200_000),
    "splat": ("export_splat_dialog", "head.splat", ".splat", 200_000),
    "spz": ("export_dialog:spz", "head.spz", "SPZ", 2_000),
    "compressed.ply": ("export_dialog:compressed.ply", "head.compressed.ply", "Compressed PLY", 20_000),
}


def _ask(window, slot: str) -> None:  # type: ignore[no-untyped-def]
    """Call ``slot`` ("export_ply_dialog") or open the Export dialog on a kind ("export_dialog:spz")."""
    name, _, kind = slot.partition(":")
    getattr(window, name)(*([kind] if kind else []))


@pytest.mark.parametrize("fault", ["unwritable", "disk-full"])
@pytest.mark.parametrize("kind", sorted(GUI_EXPORTS))
def test_gui_export_failure_then_a_good_export(
    gui_window, qtbot, tmp_path, monkeypatch, instant_result, kind, fault
) -> None:
    """The real instant result; Export PLY/.splat/SPZ/compressed PLY into a bad folder: "Export
    failed" with one line naming the file, nothing partial, the earlier file intact; then exporting
    elsewhere works."""
    window = _gui_with(gui_window, instant_result, qtbot)
    slot, name, what, after = GUI_EXPORTS[kind]
    bad = tmp_path / "bad"
    before = earlier(bad, name)
    asked = _choose(monkeypatch, bad / name)
    hits: list[str] = []
    if fault == "unwritable":
        unwritable(monkeypatch, bad)
    else:
        hits = fault_while_writing(monkeypatch, bad, name.split(".")[0], after)
    _ask(window, slot)
    assert fault == "unwritable" or hits, "the disk fault never fired"
    dialog = window.last_failure_dialog
    assert dialog is not None and dialog.windowTitle() == "Export failed"
    assert_message(dialog.reason_label.text(), str(bad / name), DENIED if fault == "unwritable" else NO_SPACE)
    assert asked == [None]  # no options: Qt's save dialog asks before replacing a file
    monkeypatch.undo()
    assert snapshot(bad) == before
    assert_nothing_partial(tmp_path)
    # the app is still usable: the same export into a good folder works
    good = tmp_path / "good"
    good.mkdir()
    _choose(monkeypatch, good / name)
    window.last_failure_dialog = None
    with qtbot.waitSignal(window.export_done, timeout=10000):
        _ask(window, slot)
    assert window.last_failure_dialog is None
    assert f"Exported {what}" in window.status_message.text()
    assert (good / name).stat().st_size > 0
    assert_nothing_partial(good, allowed=(name,))


def test_gui_views_export_into_a_full_folder_then_a_good_one(
    gui_window, qtbot, tmp_path, monkeypatch, small_result
) -> None:
    window = _gui_with(gui_window, small_result, qtbot)
    assert window.export_views_action.isEnabled()
    bad = tmp_path / "bad"
    before = earlier(bad, "head_0_front.png")
    _choose(monkeypatch, bad)
    from PySide6.QtWidgets import QMessageBox

    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    fault_while_writing(monkeypatch, bad, "head_2_right", 500)
    window.export_views_dialog()
    dialog = window.last_failure_dialog
    assert dialog is not None and dialog.windowTitle() == "Export failed"
    assert_message(dialog.reason_label.text(), str(bad / "head_2_right.png"), NO_SPACE)
    monkeypatch.undo()
    assert snapshot(bad) == before
    assert_nothing_partial(tmp_path)
    good = tmp_path / "good"
    good.mkdir()
    _choose(monkeypatch, good)
    with qtbot.waitSignal(window.export_done, timeout=10000):
        window.export_views_dialog()
    assert len(list(good.glob("head_*.png"))) == 6


def test_gui_views_dialog_asks_before_replacing(
    gui_window, qtbot, tmp_path, monkeypatch, small_result
) -> None:
    """Existing view files: the dialog asks; "No" leaves every file as it was."""
    from PySide6.QtWidgets import QMessageBox

    window = _gui_with(gui_window, small_result, qtbot)
    folder = tmp_path / "views"  # beside the window's settings file, which remembers the choice
    before = earlier(folder, "head_0_front.png")
    _choose(monkeypatch, folder)
    asked: list[str] = []

    def answer(_parent, _title, text, *a, **k):  # type: ignore[no-untyped-def]
        asked.append(text)
        return QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "question", answer)
    window.export_views_dialog()
    assert asked and "1 view images already exist" in asked[0]
    assert snapshot(folder) == before


def test_gui_window_exports_refuse_existing_files(gui_window, qtbot, tmp_path, small_result) -> None:
    """The window's export methods (what the dialogs call after asking) keep overwrite off by default."""
    window = _gui_with(gui_window, small_result, qtbot)
    before = earlier(tmp_path, "a.ply", "a.splat", "head_0_front.png")
    for call, name in (
        (lambda: window.export_ply(tmp_path / "a.ply"), "a.ply"),
        (lambda: window.export_splat(tmp_path / "a.splat"), "a.splat"),
        (lambda: window.export_views(tmp_path), "head_0_front.png"),
    ):
        with pytest.raises(OutputError) as info:
            call()
        assert_message(str(info.value), str(tmp_path / name), "already exists")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("fault", ["unwritable", "disk-full", "cancel"])
def test_gui_turntable_job_failure_leaves_nothing(qtbot, tmp_path, monkeypatch, small_result, fault) -> None:
    """The GUI's turntable writer (frames from a render callable; here the engine's renderer, since
    the test window has no GL view): a failure or a cancel half-way leaves the earlier file."""
    from engine.cameras import view_camera
    from engine.render import render, to_uint8
    from facelift_desktop.turntable import TurntableJob, TurntableSpec

    before = earlier(tmp_path / "dest", "turntable.mp4")
    target = tmp_path / "dest" / "turntable.mp4"
    camera = view_camera("front", 48)
    frames: list[int] = []

    def frame(_azimuth: float, _elevation: float) -> np.ndarray:
        frames.append(1)
        if fault == "cancel" and len(frames) == 3:
            job.cancel()
        res = render(small_result.gaussians, camera.c2w[0], camera.fxfycxcy[0], 48, 48)
        noise = np.random.default_rng(len(frames)).integers(0, 60, (48, 48, 3))
        return np.clip(to_uint8(res.rgb).astype(int) + noise, 0, 255).astype(np.uint8)

    if fault == "unwritable":
        unwritable(monkeypatch, tmp_path / "dest")
    elif fault == "disk-full":
        limit_ffmpeg(monkeypatch, tmp_path, 4)
    job = TurntableJob(frame, TurntableSpec(target, frames=12, fps=12, size=48, overwrite=True))
    outcome: list[object] = []
    job.failed.connect(lambda f: outcome.append(f))
    job.cancelled.connect(lambda: outcome.append("cancelled"))
    job.finished.connect(lambda p: outcome.append(p))
    job.start()
    qtbot.waitUntil(lambda: bool(outcome), timeout=20000)
    monkeypatch.undo()
    if fault == "cancel":
        assert outcome == ["cancelled"]
    else:
        failure = outcome[0]
        assert not isinstance(failure, (str, Path))
        problem = DENIED if fault == "unwritable" else "ffmpeg could not encode the video"
        assert_message(failure.reason, str(target), problem)  # type: ignore[union-attr]
    assert snapshot(tmp_path / "dest") == before
    assert_nothing_partial(tmp_path)


@pytest.mark.gl
def test_gui_png_and_turntable_exports_with_the_gl_view(
    gui_window, qtbot, tmp_path, monkeypatch, small_result
) -> None:
    """The real window with its VisPy view (Xvfb): Export PNG and Export turntable into an
    unwritable folder and a full one show "Export failed" naming the file and leave nothing;
    the same exports into a good folder then work."""
    from viewer.canvas import configure_vispy

    configure_vispy()
    window = gui_window(use_gl=True)
    ply = tmp_path / "head.ply"
    save_ply(small_result.gaussians, ply)
    assert window.open_gaussians(ply)
    count = len(small_result.gaussians)
    qtbot.waitUntil(lambda: getattr(window.viewport.stats(), "total", 0) == count, timeout=10000)
    assert window.count_label.text().startswith(f"Gaussians: {count:,}")
    settings = window.settings.export_settings()
    settings.video_frames, settings.video_size, settings.video_fps = 8, 128, 8
    window.settings.set_export_settings(settings)
    bad = tmp_path / "bad"
    before = earlier(bad, "head_view.png", "head_turntable.mp4")

    refused: list[str] = []

    def export(kind: str, folder: Path) -> None:
        name = "head_view.png" if kind == "png" else "head_turntable.mp4"
        _choose(monkeypatch, folder / name)
        window.last_failure_dialog = None
        if kind == "png":
            window.export_png_dialog()
        else:
            window.export_turntable_dialog()
            if window.turntable_job is not None and window.turntable_job.running:
                assert not window.open_gaussians(ply)  # the export renders the scene: it stays
                assert "turntable export is running" in window.status_message.text()
                refused.append(kind)
            qtbot.waitUntil(
                lambda: window.turntable_job is not None and not window.turntable_job.running, timeout=30000
            )

    for kind in ("png", "mp4"):
        for fault in ("unwritable", "disk-full"):
            if fault == "unwritable":
                unwritable(monkeypatch, bad)
            elif kind == "png":
                fault_while_writing(monkeypatch, bad, "head_view", 2_000)
            else:
                limit_ffmpeg(monkeypatch, tmp_path, 4)
            export(kind, bad)
            monkeypatch.undo()
            dialog = window.last_failure_dialog
            assert dialog is not None and dialog.windowTitle() == "Export failed", (kind, fault)
            name = "head_view.png" if kind == "png" else "head_turntable.mp4"
            problem = {
                "unwritable": DENIED,
                "disk-full": NO_SPACE if kind == "png" else "ffmpeg could not encode",
            }
            assert_message(dialog.reason_label.text(), str(bad / name), problem[fault])
            assert snapshot(bad) == before, (kind, fault)
            assert_nothing_partial(tmp_path)
    good = tmp_path / "good"
    good.mkdir()
    export("png", good)
    export("mp4", good)
    assert window.last_failure_dialog is None
    assert sorted(p.name for p in good.iterdir()) == ["head_turntable.mp4", "head_view.png"]
    assert refused, "no turntable export was seen running"
