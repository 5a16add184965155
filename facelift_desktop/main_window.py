"""The main window: the scene model, the panels, the engine worker and the one running job.

The state lives in a Qt-free scene model (facelift_desktop/scene.py: the result, a preview, the
filter, the views) that the viewport and the exports read; the window's behaviour is split by job
into facelift_desktop/window/ (layout and menus, opening files, the run's life, exports, weights
and help), combined here. Background work is a facelift_desktop.jobs.Job: one at a time, shown on
the Run panel, whose Cancel reaches it.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QMainWindow

from engine.api import ReconstructionResult
from engine.weights.model_folder import ModelDescription
from facelift_desktop import exports
from facelift_desktop import worker as worker_module
from facelift_desktop.dialogs import FailureDialog
from facelift_desktop.export_dialog import ExportDialog
from facelift_desktop.jobs import Job, TaskJob
from facelift_desktop.model_dialog import ModelsDialog
from facelift_desktop.panels.log_panel import LOGGER_NAME
from facelift_desktop.scene import Scene
from facelift_desktop.settings import AppSettings
from facelift_desktop.turntable import FramesJob
from facelift_desktop.window.animate import AnimateFlows
from facelift_desktop.window.export_flows import ExportFlows
from facelift_desktop.window.files import FileOpening
from facelift_desktop.window.gpu_check import GpuCheck, GpuProbe
from facelift_desktop.window.help import WeightsAndHelp
from facelift_desktop.window.layout import WindowLayout
from facelift_desktop.window.runs import RunLifecycle
from facelift_desktop.worker import EngineFactory, EngineWorker, WorkerThread

log = logging.getLogger(LOGGER_NAME)

__all__ = ["ExportDialog", "MainWindow"]


class MainWindow(
    WindowLayout, FileOpening, RunLifecycle, ExportFlows, AnimateFlows, WeightsAndHelp, GpuCheck, QMainWindow
):
    """FaceLift Desktop's window.

    settings: where parameters, recent files and export choices persist.
    engine_factory: makes the engine for a configuration (default: engine.engines.make_engine;
        tests pass a fake one).
    use_gl: host the VisPy viewport (False under a display without OpenGL: exports then draw
        with the engine's renderer).
    gpu_probe: the start-up GPU check (default: engine.gpu_status.detect; tests simulate one).
    """

    result_changed = Signal(object)  # ReconstructionResult | None
    run_finished = Signal(object)  # ReconstructionResult
    run_cancelled = Signal()
    run_failed = Signal(object)  # Failure
    export_done = Signal(object)  # Path | list[Path]
    animation_ready = Signal(object)  # facelift_desktop.animation.Animation
    animation_failed = Signal(object)  # Failure

    def __init__(
        self,
        settings: AppSettings | None = None,
        engine_factory: EngineFactory | None = None,
        use_gl: bool = True,
        gpu_probe: GpuProbe | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings if settings is not None else AppSettings()
        self.setWindowTitle("FaceLift Desktop")
        self.setAcceptDrops(True)
        self.scene = Scene()
        self.photo_path: Path | None = None
        self.photo: np.ndarray | None = None
        self.weights_dir: Path | None = None  # the picked model's folder (Tools → Models…)
        self.released_weights: Path | None = None  # the folder the weights search finds
        self.model: ModelDescription | None = None  # the picked model's cameras, views, framing
        self.model_problem = ""  # why no model can be used, when none can
        self.last_models_dialog: ModelsDialog | None = None
        self.last_failure_dialog: FailureDialog | None = None
        self.last_export_dialog: ExportDialog | None = None
        self.job: Job | None = None  # the running job (a reconstruction or an export)
        self.turntable_job: Job | None = None  # the last turntable export
        self._run_t0 = 0.0
        self._closing = False
        self.modal_dialogs = True  # False: failures go to the log only (automation)

        self._build_layout(use_gl)
        self._connect_animate()
        # one long-lived engine thread: models load once, lazily
        self.engine_worker = EngineWorker(engine_factory or worker_module.default_engine_factory)
        self.engine_thread = WorkerThread(self.engine_worker, "facelift-engine")
        self.engine_worker.progress.connect(self._on_progress)
        self.engine_worker.finished.connect(self._on_finished)
        self.engine_worker.failed.connect(self._on_failed)
        self.engine_worker.cancelled.connect(self._on_cancelled)

        self.input_panel.open_requested.connect(self.open_dialog)
        self.input_panel.recent_chosen.connect(self.open_photo)
        self.progress_panel.reconstruct_requested.connect(self.reconstruct)
        self.progress_panel.cancel_requested.connect(self.cancel)
        self.parameters_panel.changed.connect(self._save_parameters)

        self._build_menus()
        self.parameters_panel.set_parameters(self.settings.parameters())
        self.input_panel.set_recent(self.settings.recent_files())
        self.refresh_weights()
        self.device_label.setText(f"Device: {self.parameters_panel.parameters().config.device} (requested)")
        self._update_actions()
        self._start_gpu_check(gpu_probe)
        log.info("FaceLift Desktop ready")

    @property
    def result(self) -> ReconstructionResult | None:
        """The current result (the scene's)."""
        return self.scene.result

    def grab_screenshot(self, path: Path | str) -> Path:
        """Save the whole window, viewport included, as PNG (replaces ``path``)."""
        from PySide6.QtWidgets import QApplication

        from facelift_desktop.images import from_qimage

        viewer = self.viewport.viewer
        if viewer is not None:
            viewer.settle()
            viewer.canvas.update()
        for _ in range(3):
            QApplication.processEvents()
        image = from_qimage(self.grab().toImage())
        return exports.export_png(image, path, overwrite=True)

    # ---- shutdown --------------------------------------------------------------------

    def shutdown(self) -> None:
        """Cancel work, join the threads, close the viewport (idempotent)."""
        if self._closing:
            return
        self._closing = True
        self._fps_timer.stop()
        self._play_timer.stop()
        job = self.job
        if isinstance(job, FramesJob) and job.running:
            job.cancel_now()
        elif isinstance(job, TaskJob):
            job.shutdown()
        self._save_parameters()
        self.engine_thread.shutdown()
        self._stop_gpu_check()
        self.viewport.close_viewer()
        self.log_panel.detach()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt name)
        self.shutdown()
        super().closeEvent(event)
