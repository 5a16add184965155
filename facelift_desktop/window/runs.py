"""A reconstruction's life in the window, and the one background job the Run panel shows.

One job runs at a time -- a reconstruction (the long-lived EngineWorker) or an export
(facelift_desktop.jobs) -- held in ``window.job`` from its start until its outcome arrives on the
GUI loop. The Run panel's Cancel and Esc call :meth:`RunLifecycle.cancel`, which cancels whichever
job that is: nothing is rewired per job.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import TYPE_CHECKING

from engine.api import (
    CropPreview,
    GaussiansPreview,
    ProgressEvent,
    ReconstructionRequest,
    ReconstructionResult,
)
from engine.settings import EngineConfig
from facelift_desktop.dialogs import FailureDialog
from facelift_desktop.jobs import Failure, Job
from facelift_desktop.panels.log_panel import LOGGER_NAME
from facelift_desktop.worker import progress_text

if TYPE_CHECKING:
    from facelift_desktop.main_window import MainWindow

log = logging.getLogger(LOGGER_NAME)

INSTANT_VIEWS_HINT = (
    "The instant engine works from the photo alone. With the FaceLift engine, the six "
    "views its diffusion model generates appear here (click one to enlarge it)."
)


class RunLifecycle:
    """Reconstruct (Ctrl+R), Cancel (Esc), the run's progress, preview and outcome."""

    # ---- the one job ----------------------------------------------------------------

    def _job_started(self: MainWindow, job: Job) -> None:
        self.job = job
        self.progress_panel.start()
        self._update_actions()

    def _job_ended(self: MainWindow, outcome: str) -> None:
        self.job = None
        self.progress_panel.stop(outcome)
        self._update_actions()

    def cancel(self: MainWindow) -> None:
        """Cancel the running job, whichever it is (Esc, the Run panel's Cancel); it stops at its
        next check."""
        if self.job is not None and self.job.running:
            self.job.cancel()
            self.status_message.setText("Cancelling…")
            log.info("cancel requested (%s)", self.job.what)

    def cancel_export(self: MainWindow) -> None:
        """Cancel the running export (not a reconstruction)."""
        if self.job is not None and self.job is not self.engine_worker:
            self.cancel()

    # ---- reconstruction -------------------------------------------------------------

    def _save_parameters(self: MainWindow) -> None:
        params = self.parameters_panel.parameters()
        self.settings.set_parameters(params)
        if self.result is None or not self.result.info.get("device"):
            self.device_label.setText(f"Device: {params.config.device} (requested)")

    def make_request(self: MainWindow) -> tuple[EngineConfig, ReconstructionRequest]:
        """The engine configuration and the request the parameters panel asks for."""
        p = self.parameters_panel.parameters()
        assert self.photo is not None
        config = replace(p.config, weights_dir=self.weights_dir)
        return config, ReconstructionRequest(
            self.photo_path if self.photo_path is not None else self.photo, p.options
        )

    def reconstruct(self: MainWindow) -> bool:
        """Start a run with the current parameters (Ctrl+R). False if nothing to run or busy."""
        if self.photo is None or self.job is not None:
            return False
        config, request = self.make_request()
        self._save_parameters()
        self._run_t0 = time.monotonic()
        self.status_message.setText(f"Reconstructing with the {config.engine} engine…")
        o = request.options
        log.info(
            "reconstruct %s: engine=%s seed=%d guidance=%.1f sampler=%s steps=%d auto-crop=%s device=%s",
            request.describe_image(),
            config.engine,
            o.seed,
            o.guidance_scale,
            o.sampler,
            o.num_steps,
            o.auto_crop,
            config.device,
        )
        self.engine_worker.request_run(config, request)
        self._job_started(self.engine_worker)
        return True

    def _on_progress(self: MainWindow, event: ProgressEvent) -> None:
        self.progress_panel.update_progress(event)
        match event.preview:
            case GaussiansPreview(gaussians=gaussians):
                self.scene.set_preview(gaussians)
                if self.result is None:
                    self.viewport.reset_view()
                self._show_count(preview=True)
            case CropPreview(image=crop):
                self.input_panel.set_crop(crop)
        if event.step in (0, event.total) or event.total == 0 or event.step % 10 == 0:
            log.info("%s", progress_text(event))

    def _on_finished(self: MainWindow, result: ReconstructionResult) -> None:
        elapsed = time.monotonic() - self._run_t0
        reset = self.result is None and self.scene.preview is None
        self.scene.set_result(result)
        if reset:
            self.viewport.reset_view()
        self._job_ended(f"Done in {elapsed:.1f} s")
        self.input_panel.set_crop(result.input_image)
        self.views_strip.set_views(result.views, "" if result.views is not None else INSTANT_VIEWS_HINT)
        device = result.info.get("device") if isinstance(result.info, dict) else None
        if device:
            self.device_label.setText(f"Device: {device}")
        self._show_count()
        self.status_message.setText(
            f"{result.engine or 'engine'}: {len(result.gaussians):,} Gaussians in {elapsed:.1f} s"
        )
        log.info("done: %d Gaussians in %.1f s", len(result.gaussians), elapsed)
        self.result_changed.emit(result)
        self.run_finished.emit(result)

    def _restore_after_run(self: MainWindow, outcome: str) -> None:
        """A run that produced nothing: show the previous result again (drop any preview)."""
        self.scene.end_preview()
        self._show_count()
        self._job_ended(outcome)

    def _on_cancelled(self: MainWindow) -> None:
        self._restore_after_run("Cancelled")
        self.status_message.setText("Cancelled; nothing was changed.")
        log.info("cancelled")
        self.run_cancelled.emit()

    def _on_failed(self: MainWindow, failure: Failure) -> None:
        self._restore_after_run("Failed")
        self.status_message.setText(f"Failed: {failure.reason}")
        log.error("failed: %s", failure.reason)
        self.run_failed.emit(failure)
        if not self._closing:
            self.show_failure(failure)

    def show_failure(
        self: MainWindow, failure: Failure, title: str = "Reconstruction failed"
    ) -> FailureDialog:
        """The failure dialog (modal). Tests replace FailureDialog.exec to not block."""
        dialog = FailureDialog(failure, self, title=title)
        self.last_failure_dialog = dialog
        log.error("%s: %s", title, failure.reason)
        if self.modal_dialogs:
            dialog.exec()
        return dialog
