"""The window's start-up GPU check: its verdict reaches the status bar once, off the UI thread."""

from __future__ import annotations

import threading

from fakes import FakeFactory
from window_factory import window_factory

from engine import gpu_status as gs
from facelift_desktop.window.layout import WELCOME

OLD_DRIVER = gs.Facts(torch_cuda="13.0", driver="550.54.14", nvidia_pci=True)


def test_a_driver_too_old_is_said_in_the_status_bar_and_the_log(qtbot, settings_path) -> None:  # type: ignore[no-untyped-def]
    calls: list[str] = []

    def probe() -> gs.GpuStatus:
        calls.append(threading.current_thread().name)
        return gs.decide(OLD_DRIVER)

    with window_factory(qtbot, settings_path) as make:
        window = make(engine_factory=FakeFactory(), use_gl=False, gpu_probe=probe)
        qtbot.waitUntil(lambda: window.gpu_status is not None, timeout=10_000)
        text = window.status_message.text()
        assert text.startswith("No CUDA device: running on the CPU (NVIDIA driver 550.54.14 is too old")
        assert ">= 580.65.06" in text and text.endswith(WELCOME)
        assert window.device_label.toolTip() == window.gpu_status.message
        assert window.gpu_status.message in window.log_panel.toPlainText()
        assert calls == ["facelift-gpu-check"]  # once, not on the UI thread


def test_the_check_shows_over_a_message_of_the_users_work_without_replacing_it(qtbot, settings_path) -> None:  # type: ignore[no-untyped-def]
    release = threading.Event()

    def probe() -> gs.GpuStatus:
        release.wait(10)
        return gs.decide(gs.Facts(torch_cuda="13.0", driver=None))

    with window_factory(qtbot, settings_path) as make:
        window = make(engine_factory=FakeFactory(), use_gl=False, gpu_probe=probe)
        window.status_message.setText("Opened portrait.png")
        release.set()
        qtbot.waitUntil(lambda: window.gpu_status is not None, timeout=10_000)
        assert window.status_message.text() == "Opened portrait.png"  # kept, shown again later
        assert (
            window.statusBar()
            .currentMessage()
            .startswith("No CUDA device: running on the CPU (no NVIDIA driver")
        )
        assert "no NVIDIA driver found" in window.log_panel.toPlainText()


def test_a_screenshot_waits_for_the_verdict_and_the_probe_runs_once(qtbot, settings_path) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QApplication

    calls: list[int] = []

    def probe() -> gs.GpuStatus:
        calls.append(1)
        return gs.decide(gs.Facts(torch_cuda=None, driver="580.95.05", nvidia_pci=True))

    with window_factory(qtbot, settings_path) as make:
        window = make(engine_factory=FakeFactory(), use_gl=False, gpu_probe=probe)
        window.settle_gpu_check()  # what --screenshot does before grabbing the window
        assert "install facelift-desktop-cuda" in window.status_message.text()
        for _ in range(5):
            QApplication.processEvents()  # the start timer fires now: it must not probe again
        assert calls == [1]
