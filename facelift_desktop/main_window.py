"""The main window: wires the panels, the engine worker, the viewport and the exports.

Panels talk to the window through signals; the window owns the state that crosses them
(the photo, the current result) and the long-lived engine worker thread.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QGroupBox,
    QLabel,
    QMainWindow,
    QMenu,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engine.api import (
    CropPreview,
    FaceLiftError,
    GaussiansPreview,
    ProgressEvent,
    ReconstructionRequest,
    ReconstructionResult,
)
from engine.gaussians import Gaussians
from engine.io.gaussians_file import is_gaussians_file
from engine.settings import RENDER_SIZE, TURNTABLE_ELEVATION, TURNTABLE_FPS, TURNTABLE_FRAMES, EngineConfig
from facelift_desktop import exports
from facelift_desktop import worker as worker_module
from facelift_desktop.dialogs import AboutDialog, ExportSettingsDialog, FailureDialog, WeightsDialog
from facelift_desktop.panels.input_panel import InputPanel
from facelift_desktop.panels.log_panel import LOGGER_NAME, LogPanel
from facelift_desktop.panels.parameters_panel import ParametersPanel
from facelift_desktop.panels.progress_panel import ProgressPanel
from facelift_desktop.panels.viewport_panel import ViewportPanel
from facelift_desktop.panels.views_strip import ViewsStrip
from facelift_desktop.settings import AppSettings
from facelift_desktop.turntable import TurntableJob
from facelift_desktop.worker import (
    WEIGHTS_HINT,
    EngineFactory,
    EngineWorker,
    Failure,
    WorkerThread,
    progress_text,
)

log = logging.getLogger(LOGGER_NAME)
PHOTO_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff *.heic);;All files (*)"
GAUSSIANS_FILTER = "Gaussian splats (*.ply *.spz *.splat);;All files (*)"


def _group(title: str, widget: QWidget) -> QGroupBox:
    box = QGroupBox(title)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(8, 8, 8, 8)
    layout.addWidget(widget)
    return box


if TYPE_CHECKING:
    from facelift_desktop.doctor_dialog import DoctorDialog


class MainWindow(QMainWindow):
    """FaceLift Desktop's window.

    settings: where parameters, recent files and export choices persist.
    engine_factory: makes the engine for a configuration (default: engine.engines.make_engine;
        tests pass a fake one).
    use_gl: host the VisPy viewport (False under a display without OpenGL).
    """

    result_changed = Signal(object)  # ReconstructionResult | None
    run_finished = Signal(object)  # ReconstructionResult
    run_cancelled = Signal()
    run_failed = Signal(object)  # Failure
    export_done = Signal(object)  # Path | list[Path]

    def __init__(
        self,
        settings: AppSettings | None = None,
        engine_factory: EngineFactory | None = None,
        use_gl: bool = True,
    ) -> None:
        super().__init__()
        self.settings = settings if settings is not None else AppSettings()
        self.setWindowTitle("FaceLift Desktop")
        self.setAcceptDrops(True)
        self.photo_path: Path | None = None
        self.photo: np.ndarray | None = None
        self.result: ReconstructionResult | None = None
        self.weights_dir: Path | None = None
        self.last_failure_dialog: FailureDialog | None = None
        self.turntable_job: TurntableJob | None = None
        self._run_t0 = 0.0
        self._shown_preview = False
        self._closing = False
        self.modal_dialogs = True  # False: failures go to the log only (automation)

        # ---- panels
        self.input_panel = InputPanel()
        self.parameters_panel = ParametersPanel()
        self.progress_panel = ProgressPanel()
        self.views_strip = ViewsStrip()
        self.log_panel = LogPanel()
        background = str(self.settings.value("viewer/background", "dark"))
        self.viewport = ViewportPanel(use_gl=use_gl, background=background)

        sidebar = QWidget()
        side = QVBoxLayout(sidebar)
        side.setContentsMargins(6, 6, 6, 6)
        side.addWidget(_group("Input", self.input_panel))
        side.addWidget(_group("Parameters", self.parameters_panel))
        side.addWidget(_group("Run", self.progress_panel))
        side.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(sidebar)
        scroll.setWidgetResizable(True)
        scroll.setMinimumWidth(360)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        self.bottom_tabs = QTabWidget()
        self.bottom_tabs.addTab(self.views_strip, "Generated views")
        self.bottom_tabs.addTab(self.log_panel, "Log")
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.viewport)
        right.addWidget(self.bottom_tabs)
        right.setStretchFactor(0, 5)
        right.setStretchFactor(1, 1)
        main = QSplitter(Qt.Orientation.Horizontal)
        main.addWidget(scroll)
        main.addWidget(right)
        main.setStretchFactor(0, 0)
        main.setStretchFactor(1, 1)
        main.setSizes([380, 1100])
        self.setCentralWidget(main)

        # ---- status bar
        self.device_label = QLabel("Device: —")
        self.count_label = QLabel("Gaussians: —")
        self.fps_label = QLabel("— fps")
        self.status_message = QLabel("Drop a portrait photo anywhere to begin.")
        self.statusBar().addWidget(self.status_message, 1)
        for w in (self.device_label, self.count_label, self.fps_label):
            self.statusBar().addPermanentWidget(w)

        # ---- engine worker (one long-lived thread; models load once, lazily)
        self.engine_worker = EngineWorker(engine_factory or worker_module.default_engine_factory)
        self.engine_thread = WorkerThread(self.engine_worker, "facelift-engine")
        self.engine_worker.progress.connect(self._on_progress)
        self.engine_worker.finished.connect(self._on_finished)
        self.engine_worker.failed.connect(self._on_failed)
        self.engine_worker.cancelled.connect(self._on_cancelled)

        # ---- wiring
        self.input_panel.open_requested.connect(self.open_dialog)
        self.input_panel.recent_chosen.connect(self.open_photo)
        self.progress_panel.reconstruct_requested.connect(self.reconstruct)
        self.progress_panel.cancel_requested.connect(self.cancel)
        self.parameters_panel.changed.connect(self._save_parameters)
        self.viewport.stats_changed.connect(self._on_viewer_stats)

        self._fps_timer = QTimer(self)
        self._fps_timer.setInterval(1000)
        self._fps_timer.timeout.connect(self._refresh_fps)
        self._fps_timer.start()

        self._build_menus()
        self.parameters_panel.set_parameters(self.settings.parameters())
        self.input_panel.set_recent(self.settings.recent_files())
        self.refresh_weights()
        self.device_label.setText(f"Device: {self.parameters_panel.parameters().config.device} (requested)")
        self._update_actions()
        log.info("FaceLift Desktop ready")

    # ---- menus and shortcuts ---------------------------------------------------------

    def _action(
        self, menu: QMenu, text: str, slot: object, shortcut: str | QKeySequence | None = None
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            # window-wide, so typing in a dialog's text field never triggers F, B or Esc here
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)  # type: ignore[arg-type]
        menu.addAction(action)
        self.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self.open_action = self._action(
            file_menu, "&Open photo…", self.open_dialog, QKeySequence.StandardKey.Open
        )
        self.open_gaussians_action = self._action(
            file_menu, "Open &Gaussians…", self.open_gaussians_dialog, "Ctrl+Shift+O"
        )
        self.recent_menu = self.input_panel.recent_menu
        recent = file_menu.addMenu("Open &recent")
        recent.aboutToShow.connect(lambda: self._fill_recent(recent))
        file_menu.addSeparator()
        self.export_menu = file_menu.addMenu("&Export")
        self.export_ply_action = self._action(
            self.export_menu, "Gaussians as &PLY…", self.export_ply_dialog, "Ctrl+E"
        )
        self.export_splat_action = self._action(
            self.export_menu, "Gaussians as .&splat…", self.export_splat_dialog
        )
        self.export_video_action = self._action(
            self.export_menu, "&Turntable video (MP4/GIF)…", self.export_turntable_dialog
        )
        self.export_png_action = self._action(
            self.export_menu, "Current view as P&NG…", self.export_png_dialog
        )
        self.export_views_action = self._action(self.export_menu, "The six &views…", self.export_views_dialog)
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)

        run_menu = bar.addMenu("&Reconstruct")
        self.reconstruct_action = self._action(run_menu, "&Reconstruct", self.reconstruct, "Ctrl+R")
        self.cancel_action = self._action(run_menu, "&Cancel", self.cancel, "Esc")
        self.cancel_turntable_action = self._action(run_menu, "Cancel &export", self.cancel_export)

        view_menu = bar.addMenu("&View")
        self._action(view_menu, "&Front (reset)", lambda: self.viewport.set_view("front"), "F")
        for name, key in (("left", "Ctrl+1"), ("right", "Ctrl+2"), ("back", "Ctrl+3"), ("top", "Ctrl+4")):
            self._action(view_menu, name.capitalize(), lambda _=False, n=name: self.viewport.set_view(n), key)
        view_menu.addSeparator()
        self._action(view_menu, "Toggle &background", self._toggle_background, "B")
        self._action(view_menu, "Reset &filters", self.viewport.reset_filters)

        tools = bar.addMenu("&Tools")
        self._action(tools, "FaceLift &weights…", self.open_weights_dialog)
        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "&Check this computer…", self.check_this_computer)
        self._action(help_menu, "&About FaceLift Desktop", self.show_about)

    def _fill_recent(self, menu: QMenu) -> None:
        menu.clear()
        files = self.settings.recent_files()
        if not files:
            menu.addAction("(none)").setEnabled(False)
        for f in files:
            menu.addAction(f).triggered.connect(lambda _=False, f=f: self.open_photo(f))

    def _toggle_background(self) -> None:
        name = self.viewport.toggle_background()
        if name:
            self.settings.set_value("viewer/background", name)

    def _update_actions(self) -> None:
        running = self.engine_worker.running
        has_result = self.result is not None
        exporting = self.turntable_job is not None and self.turntable_job.running
        self.reconstruct_action.setEnabled(not running and self.photo is not None)
        self.progress_panel.reconstruct_button.setEnabled(not running and self.photo is not None)
        self.cancel_action.setEnabled(running)
        self.cancel_turntable_action.setEnabled(exporting)
        for a in (self.export_ply_action, self.export_splat_action, self.export_png_action):
            a.setEnabled(has_result)
        self.export_video_action.setEnabled(has_result and self.viewport.viewer is not None and not exporting)
        self.export_png_action.setEnabled(has_result and self.viewport.viewer is not None)
        self.export_views_action.setEnabled(
            has_result and self.result is not None and self.result.views is not None
        )

    # ---- weights ---------------------------------------------------------------------

    def refresh_weights(self) -> None:
        """Find the FaceLift weights (cheap check); disable the engine with the reason if none."""
        from engine import weights

        saved = self.settings.weights_dir()
        try:
            found = weights.find_weights(saved or None)
            if found is not None and not weights.weights_present(found):
                reason = f"the weights in {found} are incomplete (Tools → FaceLift weights…)"
                found = None
            else:
                reason = f"{weights.missing_weights(saved or None)} ({WEIGHTS_HINT})"
        except FaceLiftError as exc:
            found, reason = None, str(exc)
        self.weights_dir = found
        self.parameters_panel.set_facelift_available(found is not None, reason)

    def open_weights_dialog(self) -> WeightsDialog:
        def changed(path: Path | None) -> None:
            if path is not None:
                self.settings.set_weights_dir(path)
            self.refresh_weights()

        dialog = WeightsDialog(self.weights_dir, changed, self)
        dialog.exec()
        self.refresh_weights()
        return dialog

    def check_this_computer(self) -> DoctorDialog:
        """The `facelift doctor` report in a window (non-modal: the checks take a while)."""
        from facelift_desktop.doctor_dialog import DoctorDialog

        dialog = DoctorDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        dialog.start()
        return dialog

    def show_about(self) -> AboutDialog:
        dialog = AboutDialog(self)
        dialog.exec()
        return dialog

    # ---- input -----------------------------------------------------------------------

    def open_dialog(self) -> None:
        folder = str(Path(self.settings.recent_files()[0]).parent) if self.settings.recent_files() else ""
        path, _ = QFileDialog.getOpenFileName(self, "Open a portrait photo", folder, PHOTO_FILTER)
        if path:
            self.open_photo(path)

    def open_photo(self, path: str | Path) -> bool:
        """Load and show a photo; a bad file shows the failure dialog. True on success."""
        from engine.io.images import MIN_PHOTO_SIDE, load_photo

        try:
            image = load_photo(Path(path), min_side=MIN_PHOTO_SIDE)
        except Exception as exc:
            self.show_failure(Failure.from_exception(exc), title="Cannot open the photo")
            return False
        self.photo_path = Path(path)
        self.photo = image
        self.input_panel.set_photo(image, str(path))
        self.input_panel.set_recent(self.settings.add_recent_file(path))
        self.status_message.setText(
            f"{Path(path).name}: {image.shape[1]}×{image.shape[0]} — press Reconstruct (Ctrl+R)"
        )
        log.info("opened %s (%dx%d)", path, image.shape[1], image.shape[0])
        self._update_actions()
        return True

    def open_gaussians_dialog(self) -> None:
        folder = self.settings.export_settings().last_folder or str(Path.home())
        path, _ = QFileDialog.getOpenFileName(
            self, "Open Gaussians (PLY, SPZ or .splat)", folder, GAUSSIANS_FILTER
        )
        if path:
            self.open_gaussians(path)

    def open_gaussians(self, path: str | Path) -> bool:
        """Show a .ply / .splat file's Gaussians as the current result (exportable like one).

        A bad file shows "Cannot open the Gaussians" and leaves the scene as it was. True on success.
        """
        exporting = self.turntable_job is not None and self.turntable_job.running
        if self.engine_worker.running or exporting:
            busy = "A reconstruction" if self.engine_worker.running else "A turntable export"
            self.status_message.setText(f"{busy} is running: cancel it before opening Gaussians.")
            return False
        try:
            gaussians = exports.load_gaussians(Path(path))
        except Exception as exc:
            self.show_failure(Failure.from_exception(exc), title="Cannot open the Gaussians")
            return False
        self.result = ReconstructionResult(
            gaussians=gaussians, input_image=None, engine="file", info={"source": str(path)}
        )
        self.input_panel.set_crop(None)
        self.views_strip.set_views(None, f"Opened {Path(path).name}: a file has no generated views.")
        self.viewport.set_gaussians(gaussians, reset_view=True)
        self.count_label.setText(f"Gaussians: {len(gaussians):,}")
        self.status_message.setText(f"{Path(path).name}: {len(gaussians):,} Gaussians")
        log.info("opened Gaussians %s (%d)", path, len(gaussians))
        self._update_actions()
        self.result_changed.emit(self.result)
        return True

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt name)
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt name)
        urls: list[QUrl] = [u for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            event.acceptProposedAction()
            path = urls[0].toLocalFile()
            if is_gaussians_file(path):
                self.open_gaussians(path)
            else:
                self.open_photo(path)

    # ---- running ---------------------------------------------------------------------

    def _save_parameters(self) -> None:
        params = self.parameters_panel.parameters()
        self.settings.set_parameters(params)
        if self.result is None or not self.result.info.get("device"):
            self.device_label.setText(f"Device: {params.config.device} (requested)")

    def make_request(self) -> tuple[EngineConfig, ReconstructionRequest]:
        """The engine configuration and the request the parameters panel asks for."""
        p = self.parameters_panel.parameters()
        assert self.photo is not None
        config = replace(p.config, weights_dir=self.weights_dir)
        return config, ReconstructionRequest(
            self.photo_path if self.photo_path is not None else self.photo, p.options
        )

    def reconstruct(self) -> bool:
        """Start a run with the current parameters (Ctrl+R). False if nothing to run."""
        if self.photo is None or self.engine_worker.running:
            return False
        config, request = self.make_request()
        self._save_parameters()
        self._run_t0 = time.monotonic()
        self._shown_preview = False
        self.progress_panel.start()
        self.status_message.setText(f"Reconstructing with the {config.engine} engine…")
        o = request.options
        log.info(
            "reconstruct %s: engine=%s seed=%d guidance=%.1f steps=%d auto-crop=%s device=%s",
            request.describe_image(),
            config.engine,
            o.seed,
            o.guidance_scale,
            o.num_steps,
            o.auto_crop,
            config.device,
        )
        self.engine_worker.request_run(config, request)
        self._update_actions()
        return True

    def cancel(self) -> None:
        """Cancel the run (Esc); the worker stops at its next check."""
        if self.engine_worker.running:
            self.engine_worker.cancel()
            self.status_message.setText("Cancelling…")
            log.info("cancel requested")

    def _on_progress(self, event: ProgressEvent) -> None:
        self.progress_panel.update_progress(event)
        match event.preview:
            case GaussiansPreview(gaussians=gaussians):
                self._shown_preview = True
                self.viewport.set_gaussians(gaussians, reset_view=self.result is None)
                self.count_label.setText(f"Gaussians: {len(gaussians):,} (preview)")
            case CropPreview(image=crop):
                self.input_panel.set_crop(crop)
        if event.step in (0, event.total) or event.total == 0 or event.step % 10 == 0:
            log.info("%s", progress_text(event))

    def _on_finished(self, result: ReconstructionResult) -> None:
        elapsed = time.monotonic() - self._run_t0
        first = self.result is None
        self.result = result
        self.progress_panel.stop(f"Done in {elapsed:.1f} s")
        self.input_panel.set_crop(result.input_image)
        self.views_strip.set_views(
            result.views,
            ""
            if result.views is not None
            else "The instant engine works from the photo alone. With the FaceLift engine, the six "
            "views its diffusion model generates appear here (click one to enlarge it).",
        )
        self.viewport.set_gaussians(result.gaussians, reset_view=first and not self._shown_preview)
        device = result.info.get("device") if isinstance(result.info, dict) else None
        if device:
            self.device_label.setText(f"Device: {device}")
        self.count_label.setText(f"Gaussians: {len(result.gaussians):,}")
        self.status_message.setText(
            f"{result.engine or 'engine'}: {len(result.gaussians):,} Gaussians in {elapsed:.1f} s"
        )
        log.info("done: %d Gaussians in %.1f s", len(result.gaussians), elapsed)
        self._update_actions()
        self.result_changed.emit(result)
        self.run_finished.emit(result)

    def _restore_after_run(self) -> None:
        """A run that produced nothing: show the previous result again (drop any preview)."""
        if self._shown_preview:
            self.viewport.set_gaussians(None if self.result is None else self.result.gaussians)
            self._shown_preview = False
        self.count_label.setText(
            "Gaussians: —" if self.result is None else f"Gaussians: {len(self.result.gaussians):,}"
        )

    def _on_cancelled(self) -> None:
        self.progress_panel.stop("Cancelled")
        self._restore_after_run()
        self.status_message.setText("Cancelled; nothing was changed.")
        log.info("cancelled")
        self._update_actions()
        self.run_cancelled.emit()

    def _on_failed(self, failure: Failure) -> None:
        self.progress_panel.stop("Failed")
        self._restore_after_run()
        self.status_message.setText(f"Failed: {failure.reason}")
        log.error("failed: %s", failure.reason)
        self._update_actions()
        self.run_failed.emit(failure)
        if not self._closing:
            self.show_failure(failure)

    def show_failure(self, failure: Failure, title: str = "Reconstruction failed") -> FailureDialog:
        """The failure dialog (modal). Tests replace FailureDialog.exec to not block."""
        dialog = FailureDialog(failure, self, title=title)
        self.last_failure_dialog = dialog
        log.error("%s: %s", title, failure.reason)
        if self.modal_dialogs:
            dialog.exec()
        return dialog

    def _on_viewer_stats(self, stats: object) -> None:
        drawn = getattr(stats, "drawn", 0)
        visible = getattr(stats, "visible", 0)
        total = getattr(stats, "total", 0)
        fps = getattr(stats, "fps", 0.0)
        if total:
            shown = f"{visible:,}" if visible == total else f"{visible:,} of {total:,}"
            lod = f" · drawing {drawn:,}" if drawn and drawn < visible else ""
            self.count_label.setText(f"Gaussians: {shown}{lod}")
        if fps > 0:
            self.fps_label.setText(f"{fps:.0f} fps")

    def _refresh_fps(self) -> None:
        viewer = self.viewport.viewer
        if viewer is None or viewer.seconds_since_last_frame > 1.0:
            self.fps_label.setText("idle")  # nothing is being redrawn: no rate to show
        else:
            self.fps_label.setText(f"{viewer.fps:.0f} fps")

    # ---- exports ---------------------------------------------------------------------

    def _require_result(self) -> ReconstructionResult:
        if self.result is None:
            raise FaceLiftError("nothing to export yet: reconstruct a photo first")
        return self.result

    def _current_gaussians(self) -> Gaussians:
        """The result as filtered by the viewport's live filter (what the user sees)."""
        result = self._require_result()
        viewer = self.viewport.viewer
        if viewer is None:
            return result.gaussians
        return result.gaussians.subset(viewer.filter_settings.mask(result.gaussians))

    def _save_path(self, title: str, suggested: str, filters: str) -> Path | None:
        """Ask for a file name; the Qt dialog itself asks before replacing a file."""
        folder = self.settings.export_settings().last_folder or (
            str(self.photo_path.parent) if self.photo_path else str(Path.home())
        )
        path, _ = QFileDialog.getSaveFileName(self, title, str(Path(folder) / suggested), filters)
        if not path:
            return None
        s = self.settings.export_settings()
        s.last_folder = str(Path(path).parent)
        self.settings.set_export_settings(s)
        return Path(path)

    def _stem(self) -> str:
        source = self.result.info.get("source") if self.result is not None else None
        if source:  # Gaussians opened from a file
            return Path(source).stem
        return self.photo_path.stem if self.photo_path is not None else "head"

    def _run_export(self, what: str, fn: object) -> object:
        try:
            out = fn()  # type: ignore[operator]
        except Exception as exc:
            self.show_failure(Failure.from_exception(exc), title="Export failed")
            return None
        log.info("exported %s: %s", what, out)
        self.status_message.setText(f"Exported {what}: {out}")
        self.export_done.emit(out)
        return out

    def export_ply(
        self, path: Path | str, flavour: str = "facelift", up_axis: str = "z", overwrite: bool = False
    ) -> Path:
        """Write the (filtered) result as PLY; raises OutputError if ``path`` exists and not overwrite."""
        return exports.export_ply(self._current_gaussians(), path, flavour, up_axis, overwrite)

    def export_splat(self, path: Path | str, up_axis: str = "z", overwrite: bool = False) -> Path:
        return exports.export_splat(self._current_gaussians(), path, up_axis, overwrite)

    def export_png(self, path: Path | str, overwrite: bool = False) -> Path:
        viewer = self.viewport.viewer
        if viewer is None:
            raise FaceLiftError("no 3D view to export")
        return exports.export_png(viewer.render_image(), path, overwrite)

    def export_views(self, folder: Path | str, overwrite: bool = False) -> list[Path]:
        result = self._require_result()
        if result.views is None:
            raise FaceLiftError("this result has no generated views (the instant engine makes none)")
        return exports.export_views(result.views, folder, stem=self._stem(), overwrite=overwrite)

    def start_turntable_export(
        self,
        path: Path | str,
        frames: int = TURNTABLE_FRAMES,
        fps: float = TURNTABLE_FPS,
        size: int = RENDER_SIZE,
        elevation: float = TURNTABLE_ELEVATION,
        overwrite: bool = False,
    ) -> TurntableJob:
        """Start rendering a turntable into ``path`` (.mp4/.gif); progress on the Run panel."""
        viewer = self.viewport.viewer
        self._require_result()
        if viewer is None:
            raise FaceLiftError("no 3D view to render a turntable from")
        job = TurntableJob(viewer.render_orbit_frame, path, frames, fps, size, elevation, overwrite)
        self.turntable_job = job
        job.progress.connect(self.progress_panel.update_progress)
        job.finished.connect(self._on_turntable_done)
        job.failed.connect(self._on_turntable_failed)
        job.cancelled.connect(self._on_turntable_cancelled)
        self.progress_panel.start()
        self.progress_panel.cancel_button.clicked.disconnect()
        self.progress_panel.cancel_button.clicked.connect(self.cancel_export)
        log.info("turntable export to %s: %d frames, %d fps, %d px", path, frames, fps, size)
        job.start()
        self._update_actions()
        return job

    def cancel_export(self) -> None:
        if self.turntable_job is not None and self.turntable_job.running:
            self.turntable_job.cancel()

    def _end_turntable(self, outcome: str) -> None:
        self.progress_panel.stop(outcome)
        self.progress_panel.cancel_button.clicked.disconnect()
        self.progress_panel.cancel_button.clicked.connect(self.cancel)
        self._update_actions()

    def _on_turntable_done(self, path: Path) -> None:
        self._end_turntable("Export done")
        log.info("exported turntable: %s", path)
        self.status_message.setText(f"Exported turntable: {path}")
        self.export_done.emit(path)

    def _on_turntable_failed(self, failure: Failure) -> None:
        self._end_turntable("Export failed")
        if not self._closing:
            self.show_failure(failure, title="Export failed")

    def _on_turntable_cancelled(self) -> None:
        self._end_turntable("Export cancelled")
        self.status_message.setText("Turntable export cancelled; no file was written.")

    # dialogs for the menu ----------------------------------------------------------------

    def export_ply_dialog(self) -> None:
        dialog = ExportSettingsDialog("ply", self.settings.export_settings(), self)
        if not dialog.exec():
            return
        s = dialog.result_settings()
        self.settings.set_export_settings(s)
        path = self._save_path("Export PLY", f"{self._stem()}.ply", "PLY (*.ply)")
        if path is not None:
            self._run_export("PLY", lambda: self.export_ply(path, s.ply_flavour, s.up_axis, overwrite=True))

    def export_splat_dialog(self) -> None:
        dialog = ExportSettingsDialog("splat", self.settings.export_settings(), self)
        if not dialog.exec():
            return
        s = dialog.result_settings()
        self.settings.set_export_settings(s)
        path = self._save_path("Export .splat", f"{self._stem()}.splat", "splat (*.splat)")
        if path is not None:
            self._run_export(".splat", lambda: self.export_splat(path, s.up_axis, overwrite=True))

    def export_png_dialog(self) -> None:
        path = self._save_path("Export the current view", f"{self._stem()}_view.png", "PNG (*.png)")
        if path is not None:
            self._run_export("PNG", lambda: self.export_png(path, overwrite=True))

    def export_views_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder for the six views")
        if not folder:
            return
        target = Path(folder)
        existing = [p for p in target.glob(f"{self._stem()}_[0-5]_*.png")]
        if existing:
            from PySide6.QtWidgets import QMessageBox

            answer = QMessageBox.question(
                self,
                "Replace files?",
                f"{len(existing)} view images already exist in {target}. Replace them?",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        self._run_export("views", lambda: self.export_views(target, overwrite=True))

    def export_turntable_dialog(self) -> None:
        dialog = ExportSettingsDialog("turntable", self.settings.export_settings(), self)
        if not dialog.exec():
            return
        s = dialog.result_settings()
        self.settings.set_export_settings(s)
        ext = s.video_format
        path = self._save_path(
            "Export turntable", f"{self._stem()}_turntable.{ext}", f"{ext.upper()} (*.{ext})"
        )
        if path is None:
            return
        try:
            self.start_turntable_export(
                path, s.video_frames, s.video_fps, s.video_size, s.video_elevation, overwrite=True
            )
        except Exception as exc:
            self.show_failure(Failure.from_exception(exc), title="Export failed")

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
        """Cancel work, join the engine thread, close the viewport (idempotent)."""
        if self._closing:
            return
        self._closing = True
        self._fps_timer.stop()
        if self.turntable_job is not None and self.turntable_job.running:
            self.turntable_job.cancel_now()
        self._save_parameters()
        self.engine_thread.shutdown()
        self.viewport.close_viewer()
        self.log_panel.detach()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt name)
        self.shutdown()
        super().closeEvent(event)
