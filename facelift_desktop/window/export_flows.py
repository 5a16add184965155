"""Every export of the window: the Export dialog, then the writer, synchronous or as a job.

All of them read the scene (facelift_desktop/scene.py): the Gaussians its filter keeps, its views,
the head's own mesh. With a GL viewport the PNG and the turntable's frames come from the viewport
(what the user sees); without one the engine's rasteriser draws the same filtered Gaussians from
the same cameras. Gaussian formats are written at once (a second or two for 1.5 M); meshes (fused
when the head has none) and turntables run as jobs on the Run panel, which can cancel them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtWidgets import QFileDialog, QMessageBox

from engine.io.formats import format_named
from engine.settings import RENDER_SIZE
from facelift_desktop import exports
from facelift_desktop.export_dialog import ExportDialog, ExportSubject
from facelift_desktop.jobs import Failure, Job
from facelift_desktop.panels.log_panel import LOGGER_NAME
from facelift_desktop.settings import ExportSettings
from facelift_desktop.turntable import TurntableJob, TurntableSpec, engine_turntable_job

if TYPE_CHECKING:
    from engine.mesh.fuse import MeshOptions
    from facelift_desktop.main_window import MainWindow

log = logging.getLogger(LOGGER_NAME)


def _on_filtered(writer: Callable[..., Path]) -> Callable[..., Path]:
    """A window method: ``writer(the scene's filtered Gaussians, *args, **kwargs)``; a path that
    exists raises OutputError unless ``overwrite=True`` (what the dialogs pass after asking)."""

    def method(self: MainWindow, *args: Any, **kwargs: Any) -> Path:
        return writer(self.scene.filtered(), *args, **kwargs)

    method.__name__ = writer.__name__
    method.__doc__ = writer.__doc__
    return method


class ExportFlows:
    """File → Export: what to write, where, and the writing."""

    # ---- helpers ----------------------------------------------------------------------

    def _stem(self: MainWindow) -> str:
        return self.scene.stem(self.photo_path)

    def _background(self: MainWindow) -> tuple[float, float, float]:
        """The viewport's background colour (RGB in [0,1]), also for frames drawn without GL."""
        from viewer.gl_setup import BACKGROUNDS

        viewer = self.viewport.viewer
        name = (
            viewer.background if viewer is not None else str(self.settings.value("viewer/background", "dark"))
        )
        return BACKGROUNDS.get(name, BACKGROUNDS["dark"])

    def _save_path(self: MainWindow, title: str, suggested: str, filters: str) -> Path | None:
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

    def _run_export(self: MainWindow, what: str, fn: Any) -> object:
        try:
            out = fn()
        except Exception as exc:
            self.show_failure(Failure.from_exception(exc), title="Export failed")
            return None
        log.info("exported %s: %s", what, out)
        self.status_message.setText(f"Exported {what}: {out}")
        self.export_done.emit(out)
        return out

    # ---- writing (what the dialogs call after asking; overwrite is off by default) ----

    # the writers of facelift_desktop.exports, given the Gaussians the scene's filter keeps
    export_gaussians = _on_filtered(exports.export_gaussians)
    export_ply = _on_filtered(exports.export_ply)
    export_splat = _on_filtered(exports.export_splat)

    def render_view(self: MainWindow) -> np.ndarray:
        """The current view (H,W,3) uint8: the viewport's, or without one the engine's render of
        the filtered Gaussians from the front camera at RENDER_SIZE."""
        viewer = self.viewport.viewer
        if viewer is not None:
            return viewer.render_image()
        from engine.cameras import view_camera
        from engine.render import render, to_uint8

        cam = view_camera("front", RENDER_SIZE)
        res = render(
            self.scene.filtered(), cam.c2w[0], cam.fxfycxcy[0], RENDER_SIZE, RENDER_SIZE, self._background()
        )
        return to_uint8(res.rgb)

    def export_png(self: MainWindow, path: Path | str, overwrite: bool = False) -> Path:
        self.scene.require_result()
        return exports.export_png(self.render_view(), path, overwrite)

    def export_views(self: MainWindow, folder: Path | str, overwrite: bool = False) -> list[Path]:
        from engine.api import FaceLiftError

        views = self.scene.views
        self.scene.require_result()
        if views is None:
            raise FaceLiftError("this result has no generated views (the instant engine makes none)")
        return exports.export_views(
            views, folder, stem=self._stem(), overwrite=overwrite, names=self.views_strip.names
        )

    def start_turntable_export(self: MainWindow, spec: TurntableSpec) -> Job:
        """Start a turntable of the filtered head into ``spec.path`` (.mp4/.gif); progress and
        Cancel on the Run panel. Frames from the viewport, or from the engine's renderer without one."""
        filtered = self.scene.filtered()
        viewer = self.viewport.viewer
        if viewer is not None:
            job: Job = TurntableJob(viewer.render_orbit_frame, spec)
        else:
            job = engine_turntable_job(filtered, spec, self._background())
        self.turntable_job = job
        log.info(
            "turntable export to %s: %d frames, %d fps, %d px", spec.path, spec.frames, spec.fps, spec.size
        )
        return self._start_export_job(job)

    def start_mesh_export(
        self: MainWindow,
        path: Path | str,
        up_axis: str | None = None,
        options: MeshOptions | None = None,
        overwrite: bool = False,
    ) -> Job:
        """Write the head as .glb / .obj in a job: its own mesh when it has one, else one fused
        from the filtered Gaussians with ``options`` (progress and Cancel on the Run panel)."""
        job = exports.mesh_job(self.scene.filtered(), path, up_axis, self.scene.mesh, options, overwrite)
        return self._start_export_job(job)

    def _start_export_job(self: MainWindow, job: Job) -> Job:
        if self.job is not None:
            from engine.api import FaceLiftError

            raise FaceLiftError(f"a {self.job.what} is running: wait for it or cancel it first")
        # the window's own slots: a job emitting on its thread reaches them queued, on the GUI loop
        job.progress.connect(self.progress_panel.update_progress)
        job.finished.connect(self._on_export_finished)
        job.failed.connect(self._on_export_failed)
        job.cancelled.connect(self._on_export_cancelled)
        self._job_started(job)
        job.start()  # type: ignore[attr-defined]
        return job

    def _on_export_finished(self: MainWindow, out: object) -> None:
        what = self.job.what if self.job is not None else "export"
        self._job_ended("Export done")
        shown = out[0] if isinstance(out, list) and len(out) == 1 else out
        log.info("exported %s: %s", what, shown)
        self.status_message.setText(f"Exported {what}: {shown}")
        self.export_done.emit(shown)

    def _on_export_failed(self: MainWindow, failure: Failure) -> None:
        self._job_ended("Export failed")
        if not self._closing:
            self.show_failure(failure, title="Export failed")

    def _on_export_cancelled(self: MainWindow) -> None:
        what = self.job.what if self.job is not None else "export"
        self._job_ended("Export cancelled")
        self.status_message.setText(f"{what[:1].upper()}{what[1:]} export cancelled; no file was written.")

    # ---- the Export dialog ----------------------------------------------------------------

    def export_subject(self: MainWindow) -> ExportSubject:
        views = self.scene.views
        mesh = self.scene.mesh
        viewer = self.viewport.viewer
        png = tuple(viewer.canvas.physical_size) if viewer is not None else (RENDER_SIZE, RENDER_SIZE)
        return ExportSubject(
            gaussians=self.scene.filtered(),
            views_shape=None if views is None else (len(views), views.shape[1], views.shape[2]),
            own_mesh_triangles=None if mesh is None else len(mesh.faces),
            png_size=(int(png[0]), int(png[1])),
        )

    def export_dialog(self: MainWindow, kind: str | None = None) -> bool:
        """File → Export…: choose the format (each with its expected size), then where; write it.
        True if an export was written or started."""
        try:
            subject = self.export_subject()
        except Exception as exc:
            self.show_failure(Failure.from_exception(exc), title="Export failed")
            return False
        settings = self.settings.export_settings()
        dialog = ExportDialog(subject, settings, kind or settings.kind, self)
        self.last_export_dialog = dialog
        if not dialog.exec():
            return False
        s = dialog.result_settings()
        self.settings.set_export_settings(s)
        return self._export_kind(s)

    def _export_kind(self: MainWindow, s: ExportSettings) -> bool:
        stem = self._stem()
        if s.kind == "views":
            return self._export_views_to_folder()
        if s.kind == "png":
            path = self._save_path("Export the current view", f"{stem}_view.png", "PNG (*.png)")
            return (
                path is not None and self._run_export("PNG", lambda: self.export_png(path, True)) is not None
            )
        if s.kind == "turntable":
            ext = s.video_format
            path = self._save_path("Export turntable", f"{stem}_turntable.{ext}", f"{ext.upper()} (*.{ext})")
            if path is None:
                return False
            spec = TurntableSpec(path, s.video_frames, s.video_fps, s.video_size, s.video_elevation, True)
            return self._try_job(lambda: self.start_turntable_export(spec))
        fmt = format_named(s.kind)
        path = self._save_path(f"Export {fmt.label}", f"{stem}{fmt.suffix}", fmt.file_filter())
        if path is None:
            return False
        up = None if fmt.fixed_up else s.up_axis
        if fmt.mesh:
            from engine.mesh.fuse import MeshOptions

            options = MeshOptions(triangles=s.mesh_triangles, texture_size=s.mesh_texture)
            return self._try_job(lambda: self.start_mesh_export(path, up, options, overwrite=True))
        what = {"ply": "PLY", "splat": ".splat"}.get(fmt.name, fmt.label)
        write = lambda: self.export_gaussians(path, up, s.ply_flavour, overwrite=True)  # noqa: E731
        return self._run_export(what, write) is not None

    def _try_job(self: MainWindow, start: Any) -> bool:
        try:
            start()
        except Exception as exc:
            self.show_failure(Failure.from_exception(exc), title="Export failed")
            return False
        return True

    def _export_views_to_folder(self: MainWindow) -> bool:
        folder = QFileDialog.getExistingDirectory(self, "Folder for the generated views")
        if not folder:
            return False
        target = Path(folder)
        existing = [p for p in exports.view_paths(target, self._stem(), self.views_strip.names) if p.exists()]
        if existing:
            answer = QMessageBox.question(
                self,
                "Replace files?",
                f"{len(existing)} view images already exist in {target}. Replace them?",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return False
        return self._run_export("views", lambda: self.export_views(target, overwrite=True)) is not None

    # the Export as… menu's entries, by name
    def export_ply_dialog(self: MainWindow) -> bool:
        return self.export_dialog("ply")

    def export_splat_dialog(self: MainWindow) -> bool:
        return self.export_dialog("splat")

    def export_png_dialog(self: MainWindow) -> bool:
        return self.export_dialog("png")

    def export_turntable_dialog(self: MainWindow) -> bool:
        return self.export_dialog("turntable")

    def export_views_dialog(self: MainWindow) -> bool:
        return self.export_dialog("views")
