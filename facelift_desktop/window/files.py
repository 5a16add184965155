"""Opening things: a portrait photo, Gaussians (a file or a reconstruction folder), drag and drop."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog

from engine.api import ReconstructionResult
from engine.io.gaussians_file import is_gaussians_file
from facelift_desktop import exports
from facelift_desktop.jobs import Failure
from facelift_desktop.panels.log_panel import LOGGER_NAME

if TYPE_CHECKING:
    from facelift_desktop.main_window import MainWindow

log = logging.getLogger(LOGGER_NAME)
PHOTO_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff *.heic);;All files (*)"
GAUSSIANS_FILTER = "Gaussian splats (*.ply *.spz *.splat);;All files (*)"


class FileOpening:
    """File → Open photo / Open Gaussians, the recent list, and drops onto the window."""

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

    def open_gaussians_dialog(self: MainWindow) -> None:
        folder = self.settings.export_settings().last_folder or str(Path.home())
        path, _ = QFileDialog.getOpenFileName(
            self, "Open Gaussians (PLY, compressed PLY, SPZ or .splat)", folder, GAUSSIANS_FILTER
        )
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
            else:
                self.open_photo(path)
