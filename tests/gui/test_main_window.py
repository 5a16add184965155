"""The window with a fake engine: progress, cancel, failures, settings, leaks, exports."""

from __future__ import annotations

import gc
import threading

import numpy as np
import pytest
from fakes import FakeFactory
from PySide6.QtCore import QEvent, Qt, QThread
from PySide6.QtWidgets import QApplication
from window_factory import drop_file

from engine.api import FaceLiftError, OutOfMemory, OutputError, ProgressEvent
from engine.settings import EngineConfig, RunOptions
from facelift_desktop.dialogs import FailureDialog
from facelift_desktop.settings import AppSettings, Parameters


def _select_engine(window, name: str) -> None:  # type: ignore[no-untyped-def]
    combo = window.parameters_panel.engine
    combo.setCurrentIndex(combo.findData(name))


def test_progress_updates_the_panel_then_the_result_is_shown(qtbot, make_window, photo, fake_weights) -> None:  # type: ignore[no-untyped-def]
    gate = threading.Event()
    factory = FakeFactory(steps=5, gate=gate)
    window = make_window(factory)
    assert window.parameters_panel.facelift_available
    _select_engine(window, "facelift")
    assert window.open_photo(photo)
    assert window.input_panel.photo.has_image

    seen: list[ProgressEvent] = []
    window.engine_worker.progress.connect(seen.append)
    assert window.reconstruct()
    assert not window.progress_panel.reconstruct_button.isEnabled()
    assert window.progress_panel.cancel_button.isEnabled()
    # the worker is held at step 2: step 1 must already be on screen
    qtbot.waitUntil(lambda: any(e.stage == "diffusion" for e in seen), timeout=5000)
    qtbot.waitUntil(lambda: window.progress_panel.step_label.text() == "step 1/5", timeout=2000)
    assert window.progress_panel.stage_label.text() == "Multi-view diffusion"
    assert window.progress_panel.elapsed_label.text().startswith("Elapsed 0:0")
    assert window.input_panel.crop.has_image  # the preprocessed crop arrived with the progress
    assert window.count_label.text().endswith("(preview)")  # the instant preview came first
    with qtbot.waitSignal(window.run_finished, timeout=5000):
        gate.set()
    assert window.result is not None and len(window.result.gaussians) == 2000
    assert window.progress_panel.stage_label.text().startswith("Done in")
    assert window.count_label.text() == "Gaussians: 2,000"
    assert window.device_label.text() == "Device: cpu (fake)"
    assert window.views_strip.views is not None and window.views_strip.thumbs[0].pixmap() is not None
    qtbot.mouseClick(window.views_strip.thumbs[2], Qt.MouseButton.LeftButton)  # click to enlarge
    assert window.views_strip.dialog is not None and window.views_strip.dialog.isVisible()
    assert window.views_strip.dialog.windowTitle() == "View: right"
    window.views_strip.dialog.close()
    assert window.progress_panel.reconstruct_button.isEnabled()
    log_text = window.log_panel.toPlainText()
    assert "reconstruct" in log_text and "done: 2000 Gaussians" in log_text
    request = factory.engine("facelift").runs[0]
    assert request.options == RunOptions()  # the reference's defaults


def test_models_load_once_across_runs(qtbot, make_window, photo, no_weights) -> None:  # type: ignore[no-untyped-def]
    factory = FakeFactory(steps=2)
    window = make_window(factory)
    window.open_photo(photo)
    for _ in range(2):
        with qtbot.waitSignal(window.run_finished, timeout=5000):
            window.reconstruct()
    assert factory.made == 1 and factory.engine("instant").loads == 1
    assert len(factory.engine("instant").runs) == 2


def test_cancel_mid_run_returns_to_idle_without_a_result(
    qtbot, make_window, photo, no_weights, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    gate = threading.Event()
    window = make_window(FakeFactory(steps=50, gate=gate))
    window.open_photo(photo)
    before = sorted(p for p in tmp_path.rglob("*") if "settings" not in p.parts)
    window.reconstruct()
    qtbot.waitUntil(lambda: window.progress_panel.step_label.text() == "step 1/50", timeout=5000)
    with qtbot.waitSignal(window.run_cancelled, timeout=5000):
        qtbot.keyClick(window, Qt.Key.Key_Escape)  # Esc cancels
        gate.set()
    assert window.result is None
    assert window.progress_panel.stage_label.text() == "Cancelled"
    assert window.progress_panel.reconstruct_button.isEnabled()
    assert not window.progress_panel.cancel_button.isEnabled()
    assert not window.engine_worker.running
    after = sorted(p for p in tmp_path.rglob("*") if "settings" not in p.parts)
    assert after == before  # no file appeared


def test_failure_shows_the_dialog_and_the_app_stays_usable(
    qtbot, make_window, photo, no_weights, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    shown: list[FailureDialog] = []
    monkeypatch.setattr(FailureDialog, "exec", lambda self: shown.append(self) or 0)
    factory = FakeFactory(
        steps=3, fail_with=FaceLiftError("portrait.png: no face found", details="trace here")
    )
    window = make_window(factory)
    window.modal_dialogs = True
    window.open_photo(photo)
    with qtbot.waitSignal(window.run_failed, timeout=5000):
        window.reconstruct()
    assert len(shown) == 1
    dialog = shown[0]
    assert dialog.reason_label.text() == "portrait.png: no face found"
    assert "trace here" in dialog.details.toPlainText()
    assert not dialog.details.isVisibleTo(dialog)
    dialog.details_button.click()
    assert dialog.details.isVisibleTo(dialog)
    assert not dialog.hint_label.isVisibleTo(dialog)
    assert window.progress_panel.stage_label.text() == "Failed"
    assert window.result is None
    # still usable: the next run succeeds
    factory.engine("instant").fail_with = None
    with qtbot.waitSignal(window.run_finished, timeout=5000):
        assert window.reconstruct()
    assert window.result is not None


def test_out_of_memory_suggests_a_lower_memory_preset(
    qtbot, make_window, photo, no_weights, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    shown: list[FailureDialog] = []
    monkeypatch.setattr(FailureDialog, "exec", lambda self: shown.append(self) or 0)
    window = make_window(FakeFactory(fail_with=OutOfMemory("CUDA out of memory (tried 2 GiB)")))
    window.modal_dialogs = True
    window.open_photo(photo)
    with qtbot.waitSignal(window.run_failed, timeout=5000):
        window.reconstruct()
    assert shown[0].hint_label.isVisibleTo(shown[0])
    assert "memory preset" in shown[0].hint_label.text()


def test_an_unreadable_photo_is_a_dialog_not_a_crash(
    qtbot, make_window, tmp_path, no_weights, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    shown: list[FailureDialog] = []
    monkeypatch.setattr(FailureDialog, "exec", lambda self: shown.append(self) or 0)
    window = make_window()
    window.modal_dialogs = True
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"not an image")
    assert not window.open_photo(bad)
    assert "broken.jpg" in shown[0].reason_label.text()
    assert window.photo is None and not window.reconstruct_action.isEnabled()


def test_missing_weights_disable_facelift_with_the_reason(make_window, no_weights) -> None:  # type: ignore[no-untyped-def]
    window = make_window()
    assert not window.parameters_panel.facelift_available
    assert window.parameters_panel.parameters().config.engine == "instant"
    assert "weights" in window.parameters_panel.engine_note.text()


def test_settings_persist_across_a_restart(qtbot, make_window, settings_path, photo, fake_weights) -> None:  # type: ignore[no-untyped-def]
    window = make_window()
    panel = window.parameters_panel
    panel.seed.setValue(1234)
    panel.guidance.setValue(5.5)
    panel.sampler.setCurrentIndex(panel.sampler.findData("fast"))
    panel.steps.setValue(30)
    panel.auto_crop.setChecked(False)
    panel.device.setCurrentIndex(panel.device.findData("cpu"))
    panel.memory.setCurrentIndex(panel.memory.findData("offload"))
    window.open_photo(photo)
    window.close()
    restarted = make_window()
    assert restarted.parameters_panel.parameters() == Parameters(
        EngineConfig(engine="facelift", device="cpu", memory_preset="offload"),
        RunOptions(seed=1234, guidance_scale=5.5, num_steps=30, auto_crop=False, sampler="fast"),
    )
    assert AppSettings.at_path(settings_path).recent_files() == [str(photo.resolve())]
    assert restarted.input_panel.recent_button.isEnabled()


def test_the_sampler_choice_brings_its_own_steps_unless_the_user_set_them(make_window, fake_weights) -> None:  # type: ignore[no-untyped-def]
    panel = make_window().parameters_panel
    assert panel.parameters().options.sampler == "reference" and panel.steps.value() == 50
    panel.sampler.setCurrentIndex(panel.sampler.findData("fast"))
    assert panel.parameters().options == RunOptions(num_steps=20, sampler="fast")
    panel.sampler.setCurrentIndex(panel.sampler.findData("reference"))
    assert panel.steps.value() == 50
    panel.steps.setValue(35)  # the user's own number stays whichever sampler they pick
    panel.sampler.setCurrentIndex(panel.sampler.findData("fast"))
    assert panel.steps.value() == 35
    panel.engine.setCurrentIndex(panel.engine.findData("instant"))
    assert not panel.sampler.isEnabled()  # the instant engine has no diffusion


def test_parameter_ranges_match_the_reference(make_window, no_weights) -> None:  # type: ignore[no-untyped-def]
    panel = make_window().parameters_panel
    assert (panel.guidance.minimum(), panel.guidance.maximum(), panel.guidance.singleStep()) == (
        1.0,
        10.0,
        0.1,
    )
    assert (panel.steps.minimum(), panel.steps.maximum()) == (10, 100)
    panel.random_seed.click()
    assert 0 <= panel.seed.value() <= 99_999


def _flush_deletes(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Run pending deleteLater()s (also those of earlier tests) so counts are exact."""
    for _ in range(3):
        qtbot.wait(10)
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        gc.collect()


def _python_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if not isinstance(t, threading._DummyThread)}


def test_closing_mid_run_cancels_and_leaks_no_threads_or_widgets(
    qtbot, settings_path, photo, no_weights
) -> None:  # type: ignore[no-untyped-def]
    from facelift_desktop.main_window import MainWindow

    app = QApplication.instance()
    _flush_deletes(qtbot)
    threads_before = _python_threads()
    widgets_before = len(app.topLevelWidgets())  # type: ignore[union-attr]
    gate = threading.Event()
    factory = FakeFactory(steps=100, gate=gate, step_seconds=0.02)
    window = MainWindow(AppSettings.at_path(settings_path), engine_factory=factory, use_gl=False)
    window.show()
    window.open_photo(photo)
    window.reconstruct()
    qtbot.waitUntil(lambda: window.progress_panel.step_label.text() == "step 1/100", timeout=5000)
    qthread: QThread = window.engine_thread.thread
    assert qthread.isRunning()
    gate.set()
    window.close()  # cancels the run and joins the thread
    assert qthread.isFinished()
    assert factory.engine("instant").unloaded
    assert len(factory.engine("instant").runs) == 1
    window.deleteLater()
    _flush_deletes(qtbot)
    assert _python_threads() == threads_before
    assert len(app.topLevelWidgets()) == widgets_before  # type: ignore[union-attr]


def test_exports_write_files_and_never_overwrite_silently(
    qtbot, make_window, photo, fake_weights, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from engine.io.ply import load_ply

    window = make_window(FakeFactory(count=300))
    _select_engine(window, "facelift")
    window.open_photo(photo)
    with pytest.raises(FaceLiftError, match="nothing to export"):
        window.export_ply(tmp_path / "early.ply")
    with qtbot.waitSignal(window.run_finished, timeout=5000):
        window.reconstruct()
    out = tmp_path / "out"
    out.mkdir()
    ply = window.export_ply(out / "head.ply")
    splat = window.export_splat(out / "head.splat")
    assert splat.stat().st_size == 32 * 300
    assert len(load_ply(ply)) == 300
    with pytest.raises(OutputError, match="already exists"):
        window.export_ply(out / "head.ply")
    yup = load_ply(window.export_ply(out / "head_yup.ply", up_axis="y", flavour="inria"))
    g = window.result.gaussians
    np.testing.assert_allclose(yup.xyz, np.stack([g.xyz[:, 0], g.xyz[:, 2], -g.xyz[:, 1]], 1), atol=1e-6)
    views = window.export_views(out)
    assert next(p.name for p in views) == "portrait_0_front.png" and all(p.is_file() for p in views)
    with pytest.raises(OutputError):
        window.export_views(out)
    assert not list(out.glob(".*"))  # no temp files left behind


def test_exports_are_disabled_until_there_is_a_result(make_window, photo, no_weights) -> None:  # type: ignore[no-untyped-def]
    window = make_window()
    assert not window.export_ply_action.isEnabled()
    window.open_photo(photo)
    assert window.reconstruct_action.isEnabled()
    assert not window.export_views_action.isEnabled()


def test_about_says_the_weights_are_non_commercial(make_window, no_weights, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from facelift_desktop.dialogs import AboutDialog

    monkeypatch.setattr(AboutDialog, "exec", lambda self: 0)
    text = make_window().show_about().label.text()
    assert "non-commercial research use only" in text
    assert "PySide6" in text and "VisPy" in text


def test_dropping_a_photo_on_the_window_opens_it(qtbot, make_window, photo, no_weights) -> None:  # type: ignore[no-untyped-def]
    window = make_window()
    drop_file(window, photo)
    assert window.photo_path == photo and window.input_panel.photo.has_image
    assert window.reconstruct_action.isEnabled()


def test_the_sidebar_shows_every_control_whole(qtbot, make_window, no_weights) -> None:  # type: ignore[no-untyped-def]
    """At the default window size nothing in the sidebar is cut off on the right (its scroll
    area scrolls only vertically): long combo labels and the weights message wrap or elide."""
    from PySide6.QtWidgets import QScrollArea

    window = make_window()
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    scroll = window.findChild(QScrollArea)
    assert scroll.widget().isAncestorOf(window.parameters_panel)
    qtbot.wait(50)  # the layout settles
    assert scroll.widget().minimumSizeHint().width() <= scroll.viewport().width()
    assert scroll.horizontalScrollBar().maximum() == 0
