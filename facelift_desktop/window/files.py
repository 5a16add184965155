"""Opening things: a portrait photo, Gaussians (a file or a reconstruction folder), a set of
views for GS-LRM alone, drag and drop."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog

from engine.api import CancelToken, FaceLiftError, ProgressCallback, ReconstructionResult
from engine.errors import WeightsError
from engine.io.gaussians_file import is_gaussians_file
from facelift_desktop import exports
from facelift_desktop.jobs import Failure, TaskJob
from facelift_desktop.panels.log_panel import LOGGER_NAME
from facelift_desktop.window.animate import VIDEO_SUFFIXES

if TYPE_CHECKING:
    from facelift_desktop.main_window import MainWindow

log = logging.getLogger(LOGGER_NAME)
PHOTO_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff *.heic);;All files (*)"
GAUSSIANS_FILTER = "Gaussian splats (*.ply *.spz *.splat);;All files (*)"


class FileOpening:
    """File → Open photo / Open Gaussians / Open views, the recent list, and drops onto the window."""

    def open_dialog(self: MainWindow) -> None:
        folder = str(Path(self.settings.recent_files()[0]).parent) if self.settings.recent_files() else ""
        path, _ = QFileDialog.getOpenFileName(self, "Open a portrait photo", folder, PHOTO_FILTER)
        if path:
            self.open_photo(path)

    def open_photo(self: MainWindow, path: str | Path) -> bool:
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

    def _browse_folder(self: MainWindow) -> str:
        """Where the Open Gaussians / Open views dialogs start: the last export folder, else home."""
        return self.settings.export_settings().last_folder or str(Path.home())

    def open_gaussians_dialog(self: MainWindow) -> None:
        title = "Open Gaussians (PLY, compressed PLY, SPZ or .splat)"
        path, _ = QFileDialog.getOpenFileName(self, title, self._browse_folder(), GAUSSIANS_FILTER)
        if path:
            self.open_gaussians(path)

    def open_gaussians(self: MainWindow, path: str | Path) -> bool:
        """Show a Gaussians file's (or a reconstruction folder's) head as the current result,
        exportable like one; a folder's own mesh.glb comes with it.

        A bad file shows "Cannot open the Gaussians" and leaves the scene as it was. True on success.
        """
        if self.job is not None:
            busy = "A reconstruction" if self.job is self.engine_worker else f"A {self.job.what} export"
            self.status_message.setText(f"{busy} is running: cancel it before opening Gaussians.")
            return False
        try:
            gaussians, mesh = exports.load_head(Path(path))
        except Exception as exc:
            self.show_failure(Failure.from_exception(exc), title="Cannot open the Gaussians")
            return False
        result = ReconstructionResult(
            gaussians=gaussians, input_image=None, engine="file", info={"source": str(path)}, mesh=mesh
        )
        self.scene.set_result(result)
        self.viewport.reset_view()
        self.input_panel.set_crop(None)
        self.views_strip.set_views(None, f"Opened {Path(path).name}: a file has no generated views.")
        self._show_count()
        self.status_message.setText(f"{Path(path).name}: {len(gaussians):,} Gaussians")
        log.info("opened Gaussians %s (%d)", path, len(gaussians))
        self._update_actions()
        self.result_changed.emit(result)
        return True

    def open_views_dialog(self: MainWindow) -> None:
        title = "Open views: one image per camera of the model (GS-LRM only)"
        paths, _ = QFileDialog.getOpenFileNames(self, title, self._browse_folder(), PHOTO_FILTER)
        if paths:
            self.open_views([Path(p) for p in paths])

    def open_views(self: MainWindow, chosen: list[Path] | Path) -> bool:
        """Reconstruct from an existing set of views (a `facelift multiview` folder, or images,
        one per camera of the picked model) with GS-LRM alone and the model's cameras.

        A wrong count of views or no usable model shows "Cannot open the views" with one line;
        True if the run started (its outcome arrives like a reconstruction's)."""
        from facelift_desktop.posed_views import reconstruct_views, view_files

        if self.job is not None:
            self.status_message.setText("Something is running: cancel it before opening views.")
            return False
        model = self.model
        try:
            if model is None or self.weights_dir is None:
                raise WeightsError(f"Open views needs a model (Tools → Models…): {self.model_problem}")
            files = view_files([chosen] if isinstance(chosen, Path) else list(chosen), model)
        except FaceLiftError as exc:
            self.show_failure(Failure.from_exception(exc), title="Cannot open the views")
            return False
        device = self.parameters_panel.parameters().config.device

        def work(on_progress: ProgressCallback, cancel: CancelToken) -> ReconstructionResult:
            return reconstruct_views(files, model, device, on_progress, cancel)

        job = TaskJob(work, "views")
        job.progress.connect(self._on_progress)
        job.finished.connect(self._on_finished)
        job.failed.connect(self._on_failed)
        job.cancelled.connect(self._on_cancelled)
        self._run_t0 = time.monotonic()
        self.status_message.setText(f"GS-LRM on {len(files)} views with the cameras of {model.name}…")
        log.info("open views with %s: %s", model.name, ", ".join(str(f) for f in files))
        self._job_started(job)
        job.start()
        return True

    def dragEnterEvent(self: MainWindow, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt name)
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self: MainWindow, event: QDropEvent) -> None:  # noqa: N802 (Qt name)
        urls: list[QUrl] = [u for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            event.acceptProposedAction()
            path = urls[0].toLocalFile()
            if is_gaussians_file(path) or Path(path).is_dir():
                self.open_gaussians(path)
            elif Path(path).suffix.lower() in VIDEO_SUFFIXES:
                self.load_driver(path)  # a video is a driver for the Animate panel
            else:
                self.open_photo(path)
