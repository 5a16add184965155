"""Animating the current head in the window: a driver (video or photo) becomes a job on the Run
panel (progress, Cancel) that rigs the head and computes every frame (facelift_desktop.animation);
then play / pause / scrub show its frames through the scene model (the viewport draws them, the
user can orbit meanwhile), and Export MP4… writes it like the turntable (atomic, cancellable).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QFileDialog

from engine.api import CancelToken, FaceLiftError, ProgressCallback, ProgressEvent
from engine.settings import RENDER_SIZE
from facelift_desktop.jobs import Failure, Job, TaskJob
from facelift_desktop.panels.log_panel import LOGGER_NAME
from facelift_desktop.turntable import FramesJob

if TYPE_CHECKING:
    from facelift_desktop.animation import Animation
    from facelift_desktop.main_window import MainWindow

log = logging.getLogger(LOGGER_NAME)
DRIVER_FILTER = "Face videos or photos (*.mp4 *.mov *.avi *.mkv *.webm *.m4v *.gif *.png *.jpg *.jpeg *.webp);;All files (*)"
VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v")
"""Files dropped anywhere on the window that are taken as drivers (photos stay portraits)."""
FRONT_AZIMUTH = 270.0  # engine.geometry's front camera: the exported animation's view
STALL_SECONDS = 0.5  # playback moves on even if the viewport has not shown the last frame by then


class AnimateFlows:
    """The Animate panel's behaviour: load a driver, play / pause / scrub, export the animation."""

    def _connect_animate(self: MainWindow) -> None:
        panel = self.animate_panel
        panel.driver_chosen.connect(self.load_driver)
        panel.open_requested.connect(self.open_driver_dialog)
        panel.record_requested.connect(self.record_webcam_dialog)
        panel.play_toggled.connect(self.toggle_play)
        panel.frame_chosen.connect(self.show_animation_frame)
        panel.export_requested.connect(self.export_animation_dialog)
        panel.stop_requested.connect(self.stop_animation)
        self._play_timer = QTimer(self)
        self._play_timer.setInterval(5)
        self._play_timer.timeout.connect(self._play_tick)
        self._play_t0 = 0.0
        self._play_from = 0
        self._play_pushed = 0.0
        self.scene.animation_changed.connect(lambda _scene: self._animation_changed())

    @property
    def animation(self: MainWindow) -> Animation | None:
        return self.scene.animation  # type: ignore[return-value]

    @property
    def playing(self: MainWindow) -> bool:
        return self._play_timer.isActive()

    # ---- the driver -------------------------------------------------------------------

    def open_driver_dialog(self: MainWindow) -> None:
        folder = self.settings.export_settings().last_folder or str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "Open a driver video or photo", folder, DRIVER_FILTER)
        if path:
            self.load_driver(Path(path))

    def record_webcam_dialog(self: MainWindow, seconds: float) -> bool:
        """Record webcam: where to keep the clip, then the recording job; the clip drives the head."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = self._save_path("Save the webcam recording as", f"webcam_{stamp}.mp4", "MP4 (*.mp4)")
        return path is not None and self.record_webcam(path, seconds, overwrite=True)

    def record_webcam(
        self: MainWindow, path: Path | str, seconds: float, camera: int = 0, overwrite: bool = False
    ) -> bool:
        """Record ``seconds`` of webcam ``camera`` into ``path`` as a job on the Run panel
        (progress, Cancel: no file is left), then drive the head with it. False (and a status
        line) when there is no head or a job runs."""
        from engine.animate.webcam import record_webcam

        clip = Path(path)

        def work(on_progress: ProgressCallback, cancel: CancelToken) -> Path:
            return record_webcam(camera, clip, seconds, on_progress, cancel, overwrite=overwrite)

        status = f"Recording {seconds:g} s from webcam {camera} into {clip.name}: look at the camera…"
        return self._start_animate_job(
            work, "webcam recording", status, self._on_recorded, self._on_recording_cancelled
        )

    def _on_recorded(self: MainWindow, clip: Path) -> None:
        self._job_ended("Recorded")
        log.info("webcam recording saved: %s", clip)
        self.load_driver(clip)

    def _on_recording_cancelled(self: MainWindow) -> None:
        self._job_ended("Cancelled")
        self.status_message.setText("Webcam recording cancelled; nothing was saved.")

    def load_driver(self: MainWindow, path: Path | str) -> bool:
        """Drive the current head with ``path`` (a face video or photo) as a job on the Run panel;
        its frames play once ready. False (and a status line) when there is no head or a job runs."""
        from facelift_desktop.animation import prepare

        result = self.scene.result
        driver = Path(path)

        def work(on_progress: ProgressCallback, cancel: CancelToken) -> Animation:
            assert result is not None  # _start_animate_job refuses to start without a head
            return prepare(result, driver, on_progress, cancel)

        status = f"Animating the head with {driver.name}…"
        return self._start_animate_job(
            work, "animation", status, self._on_animation_ready, self._on_animation_cancelled
        )

    def _start_animate_job(
        self: MainWindow,
        work: Callable[[ProgressCallback, CancelToken], Any],
        what: str,
        status: str,
        on_done: Callable[[Any], None],
        on_cancelled: Callable[[], None],
    ) -> bool:
        """Run ``work`` as a job on the Run panel (its failures: "Cannot animate"), playback
        paused. False (and a status line) when there is no head or another job runs."""
        if self.scene.result is None:
            self.status_message.setText("Reconstruct a photo or open Gaussians before animating.")
            return False
        if self.job is not None:
            self.status_message.setText(f"A {self.job.what} is running: wait for it or cancel it first.")
            return False
        self.pause()
        job = TaskJob(work, what)
        job.progress.connect(self.progress_panel.update_progress)
        job.finished.connect(on_done)
        job.failed.connect(self._on_animation_failed)
        job.cancelled.connect(on_cancelled)
        self.status_message.setText(status)
        log.info("%s", status)
        self._job_started(job)
        job.start()
        return True

    def _on_animation_ready(self: MainWindow, animation: Animation) -> None:
        self._job_ended("Animation ready")
        self.scene.set_animation(animation)
        self.status_message.setText(
            f"{animation.driver.name}: {animation.frames} frames at {animation.fps:g} fps — Play, or drag the slider"
        )
        log.info("animation ready: %d frames of %d Gaussians", animation.frames, len(animation.base))
        self.animation_ready.emit(animation)

    def _on_animation_failed(self: MainWindow, failure: Failure) -> None:
        self._job_ended("Failed")
        self.status_message.setText(f"Cannot animate: {failure.reason}")
        self.animation_failed.emit(failure)
        if not self._closing:
            self.show_failure(failure, title="Cannot animate the head")

    def _on_animation_cancelled(self: MainWindow) -> None:
        self._job_ended("Cancelled")
        self.status_message.setText("Animation cancelled; the head is as it was.")

    def _animation_changed(self: MainWindow) -> None:
        """The scene's animation started or ended (a new result ends it): the panel follows."""
        animation = self.animation
        if animation is None:
            self.pause()
            self.animate_panel.set_frames(0)
        else:
            self.animate_panel.set_frames(animation.frames, animation.driver)

    # ---- playback -----------------------------------------------------------------------

    def show_animation_frame(self: MainWindow, index: int) -> None:
        """Show frame ``index`` (the slider; while playing, playback goes on from there)."""
        animation = self.animation
        if animation is None:
            return
        self.scene.set_frame(index)
        self.animate_panel.show_frame(self.scene.frame, animation.frames)
        self._play_t0, self._play_from = time.perf_counter(), self.scene.frame

    def play(self: MainWindow) -> None:
        """Play the frames at the driver's rate, looping (frames the viewport cannot keep up
        with are skipped); the viewport draws its level-of-detail subset meanwhile."""
        if self.animation is None or self.playing:
            return
        self._play_t0, self._play_from = time.perf_counter(), self.scene.frame
        self.viewport.set_playing(True)
        self.animate_panel.set_playing(True)
        self._play_timer.start()

    def pause(self: MainWindow) -> None:
        """Stop on the current frame; the viewport draws every splat of it again."""
        if not self.playing:
            return
        self._play_timer.stop()
        self.viewport.set_playing(False)
        self.animate_panel.set_playing(False)

    def toggle_play(self: MainWindow) -> None:
        self.pause() if self.playing else self.play()

    def stop_animation(self: MainWindow) -> None:
        """Back to the static head."""
        self.pause()
        self.scene.set_animation(None)

    def _play_tick(self: MainWindow) -> None:
        animation = self.animation
        if animation is None:
            self.pause()
            return
        now = time.perf_counter()
        viewer = self.viewport.viewer
        if viewer is not None and not viewer.frame_on_screen and now - self._play_pushed < STALL_SECONDS:
            return  # the last frame is still being sorted: skip ahead rather than queue frames
        index = (self._play_from + int((now - self._play_t0) * animation.fps)) % animation.frames
        if index != self.scene.frame:
            self._play_pushed = now
            self.scene.set_frame(index)
            self.animate_panel.show_frame(index, animation.frames)

    # ---- export -------------------------------------------------------------------------

    def export_animation_dialog(self: MainWindow) -> bool:
        """Export MP4…: where, then the export job (progress and Cancel on the Run panel)."""
        if self.animation is None:
            return False
        path = self._save_path("Export the animation", f"{self._stem()}_animated.mp4", "MP4 (*.mp4)")
        return path is not None and self._try_job(lambda: self.start_animation_export(path, overwrite=True))

    def start_animation_export(
        self: MainWindow, path: Path | str, size: int = RENDER_SIZE, overwrite: bool = False
    ) -> Job:
        """Write the animation from the front camera, one frame per driver frame at its rate,
        into ``path`` (.mp4 or .gif): from the viewport, or the engine's renderer without one.
        Written under a temporary name; a cancel or an error leaves no file."""
        animation = self.animation
        if animation is None:
            raise FaceLiftError("nothing to export: load a driver in the Animate panel first")
        self.pause()
        viewer = self.viewport.viewer
        if viewer is not None:
            shown = self.scene.frame

            def frame(index: int) -> Any:
                self.scene.set_frame(index)
                return viewer.render_orbit_frame(FRONT_AZIMUTH, 0.0)

            job: Job = FramesJob(frame, animation.frames, path, animation.fps, size, overwrite, "animation")
            for outcome in (job.finished, job.failed, job.cancelled):
                outcome.connect(lambda *_: self.show_animation_frame(shown))
        else:
            job = _engine_export_job(animation, Path(path), size, overwrite)
        log.info(
            "animation export to %s: %d frames, %g fps, %d px", path, animation.frames, animation.fps, size
        )
        return self._start_export_job(job)


def _engine_export_job(animation: Animation, path: Path, size: int, overwrite: bool) -> TaskJob:
    """The animation rendered by the engine's rasteriser on a thread (no GL viewport)."""
    from engine.io.atomic import refuse_overwrite

    refuse_overwrite(path, overwrite)

    def work(on_progress: ProgressCallback, cancel: CancelToken) -> Path:
        from engine.animate.pipeline import render_frames
        from engine.io.video import write_video

        def progress(event: ProgressEvent) -> None:
            on_progress(ProgressEvent("export", event.step, event.total, f"animation frame {event.step}"))

        frames = render_frames(animation.rig, animation.moves, size=size, fps=animation.fps, cancel=cancel)
        out = write_video(
            frames, path, animation.fps, on_progress=progress, cancel=cancel, total=animation.frames
        )
        return Path(out)

    return TaskJob(work, "animation")
