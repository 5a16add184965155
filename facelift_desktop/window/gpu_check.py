"""The start-up GPU check: once per window, off the UI thread, engine.gpu_status says whether
FaceLift runs on an NVIDIA GPU here and, if not, why (no driver, a driver too old for the bundled
CUDA runtime, missing CUDA libraries, or the CPU package on a computer with an NVIDIA GPU). The
answer goes to the status bar once (in place of the welcome line, or for a while over the line of
a run that began first) and to the log."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer

from engine.gpu_status import GpuStatus
from facelift_desktop.jobs import Failure, TaskJob
from facelift_desktop.panels.log_panel import LOGGER_NAME
from facelift_desktop.window.layout import WELCOME

if TYPE_CHECKING:
    from facelift_desktop.main_window import MainWindow

log = logging.getLogger(LOGGER_NAME)

GpuProbe = Callable[[], GpuStatus]
GPU_MESSAGE_MS = 15_000
"""How long the verdict shows over the status line of a run that began before the check ended."""


def default_probe() -> GpuStatus:
    from engine import gpu_status

    return gpu_status.detect()


class GpuCheck:
    """Runs the probe once the event loop runs (so the window shows first: the probe imports
    torch, which loads the CUDA libraries in the CUDA package) and shows its one line."""

    def _start_gpu_check(self: MainWindow, probe: GpuProbe | None) -> None:
        self.gpu_status: GpuStatus | None = None
        self.gpu_job: TaskJob | None = None
        fn = probe or default_probe
        job = TaskJob(lambda _progress, _cancel: fn(), "gpu-check")
        job.finished.connect(self._on_gpu_status)
        job.failed.connect(self._on_gpu_check_failed)
        self.gpu_job = job
        self._gpu_check_started = False
        QTimer.singleShot(0, self, self._launch_gpu_check)

    def _launch_gpu_check(self: MainWindow) -> None:
        if self.gpu_job is not None and not self._gpu_check_started and not self._closing:
            self._gpu_check_started = True
            self.gpu_job.start()

    def _on_gpu_status(self: MainWindow, status: GpuStatus) -> None:
        self.gpu_status = status
        log.info(status.message)
        self.device_label.setToolTip(status.message)
        text = f"{status.message[:1].upper()}{status.message[1:]}"
        if self.status_message.text() == WELCOME:
            self.status_message.setText(f"{text}.  {WELCOME}")
        else:  # a run has begun: shown over its line for a while, which is kept (not replaced)
            self.statusBar().showMessage(text, GPU_MESSAGE_MS)

    def _on_gpu_check_failed(self: MainWindow, failure: Failure) -> None:
        log.warning("GPU check failed: %s", failure.reason)

    def settle_gpu_check(self: MainWindow, timeout: float = 60.0) -> None:
        """Wait for the check and deliver its answer (automation: ``--screenshot``)."""
        from PySide6.QtWidgets import QApplication

        if self.gpu_job is None:
            return
        self._launch_gpu_check()  # if its timer has not fired yet
        self.gpu_job.wait(timeout)
        QApplication.processEvents()  # the queued finished signal

    def _stop_gpu_check(self: MainWindow) -> None:
        if self.gpu_job is not None:
            self.gpu_job.wait(60.0)
