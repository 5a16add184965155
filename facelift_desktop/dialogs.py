"""Dialogs: failure, about, export settings, weights manager."""

from __future__ import annotations

import platform
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.api import CancelToken, ProgressCallback, ProgressEvent
from engine.settings import MEMORY_PRESETS
from facelift_desktop.jobs import Failure, TaskJob

OOM_HINT = (
    "The device ran out of memory and the models were freed. Close other programs that use the "
    "memory, or choose a lower memory preset (Parameters → Memory), then press Reconstruct again."
)


def oom_hint(suggested_preset: str | None) -> str:
    """What to change in the window after running out of memory, in the window's own words
    (the engine's suggestion names a preset by its CLI name; the window shows its label)."""
    if suggested_preset not in MEMORY_PRESETS:
        return OOM_HINT
    label = MEMORY_PRESETS[suggested_preset].label  # type: ignore[index]
    return (
        "The device ran out of memory and the models were freed. Choose a lower memory preset: "
        f"in Parameters, set Memory to “{label}”, then press Reconstruct again."
    )


class FailureDialog(QDialog):
    """One-line reason, an out-of-memory hint when it applies, and expandable details."""

    def __init__(
        self, failure: Failure, parent: QWidget | None = None, title: str = "Reconstruction failed"
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.failure = failure
        self.reason_label = QLabel(failure.reason)
        self.reason_label.setObjectName("failureReason")
        self.reason_label.setWordWrap(True)
        self.reason_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hint_label = QLabel(oom_hint(failure.suggested_preset))
        self.hint_label.setWordWrap(True)
        self.hint_label.setObjectName("warning")
        self.hint_label.setVisible(failure.out_of_memory)
        self.details = QPlainTextEdit(failure.details)
        self.details.setReadOnly(True)
        self.details.setVisible(False)
        self.details.setMinimumHeight(200)
        self.details_button = QPushButton("Show details")
        self.details_button.setCheckable(True)
        self.details_button.toggled.connect(self._toggle)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        row = QHBoxLayout()
        row.addWidget(self.details_button)
        row.addStretch(1)
        row.addWidget(buttons)
        layout = QVBoxLayout(self)
        layout.addWidget(self.reason_label)
        layout.addWidget(self.hint_label)
        layout.addWidget(self.details, 1)
        layout.addLayout(row)
        self.resize(560, 160)

    def _toggle(self, on: bool) -> None:
        self.details.setVisible(on)
        self.details_button.setText("Hide details" if on else "Show details")
        self.adjustSize()


def _version(module: str) -> str:
    try:
        from importlib.metadata import version

        return version(module)
    except Exception:
        return "not installed"


class AboutDialog(QDialog):
    """Versions and licences; the FaceLift weights' licence is stated plainly."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About FaceLift Desktop")
        from engine.weights import LICENSE_NOTICE

        versions = ", ".join(
            f"{name} {_version(dist)}"
            for name, dist in (
                ("FaceLift Desktop", "facelift-desktop"),
                ("PySide6", "PySide6-Essentials"),
                ("VisPy", "vispy"),
                ("NumPy", "numpy"),
                ("PyTorch", "torch"),
                ("diffusers", "diffusers"),
                ("mediapipe", "mediapipe"),
            )
        )
        text = (
            "<h3>FaceLift Desktop</h3>"
            "<p>One portrait photo → an interactive 3D Gaussian-splat head. Implements the method of "
            "<i>FaceLift: Learning Generalizable Single Image 3D Face Reconstruction from Synthetic "
            "Heads</i> (ICCV 2025) and a built-in offline instant engine.</p>"
            f"<p><b>Versions:</b> {versions}; Python {platform.python_version()}.</p>"
            "<p><b>Licences:</b> this application's code is Apache-2.0. "
            "<b>The FaceLift model weights are NOT part of this application and are for "
            "non-commercial research use only</b> — " + LICENSE_NOTICE + " "
            "Downloading them means you accept that licence. The instant engine uses Google's "
            "mediapipe models (Apache-2.0). The sample portrait is NASA's astronaut photo "
            "(public domain).</p>"
        )
        self.label = QLabel(text)
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)
        layout.addWidget(buttons)
        self.resize(560, 320)


class WeightsDialog(QDialog):
    """Where weights are looked for, per-component status, choose / download / verify.

    ``on_weights_changed(path or None)`` is called when the usable folder changes.
    """

    def __init__(
        self,
        current: Path | None,
        on_weights_changed: Callable[[Path | None], None],
        parent: QWidget | None = None,
        download: Callable[..., Any] | None = None,
    ) -> None:
        super().__init__(parent)
        from engine import weights

        self._weights = weights
        self._download = download if download is not None else weights.download_weights
        self.setWindowTitle("FaceLift weights")
        self.current = current
        self.on_weights_changed = on_weights_changed
        self.notice = QLabel(weights.LICENSE_NOTICE)
        self.notice.setWordWrap(True)
        self.notice.setObjectName("warning")
        self.where = QTreeWidget()
        self.where.setHeaderLabels(["Looked for in", "Folder", "Found"])
        self.where.setRootIsDecorated(False)
        self.components = QTreeWidget()
        self.components.setHeaderLabels(["Component", "Status", "Message"])
        self.components.setRootIsDecorated(False)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setVisible(False)
        self.choose_button = QPushButton("Choose folder…")
        self.verify_button = QPushButton("Verify")
        self.download_button = QPushButton("Download")
        self.cancel_button = QPushButton("Cancel download")
        self.cancel_button.setEnabled(False)
        self.close_button = QPushButton("Close")
        self.choose_button.clicked.connect(self.choose_folder)
        self.verify_button.clicked.connect(self.verify)
        self.download_button.clicked.connect(self.start_download)
        self.cancel_button.clicked.connect(self.cancel_download)
        self.close_button.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        for b in (self.choose_button, self.verify_button, self.download_button, self.cancel_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.notice)
        layout.addWidget(QLabel("Where the weights are looked for (first complete folder wins):"))
        layout.addWidget(self.where)
        layout.addWidget(QLabel("Components:"))
        layout.addWidget(self.components, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.bar)
        layout.addLayout(buttons)
        self.resize(760, 480)
        self._task: TaskJob | None = None
        self.refresh()

    def refresh(self) -> None:
        self.where.clear()
        explicit = self.current
        for loc in self._weights.weights_locations(explicit):
            QTreeWidgetItem(
                self.where,
                [loc.source, str(loc.path) if loc.path else "(not set)", "yes" if loc.present else "no"],
            )
        found = None
        try:
            found = self._weights.find_weights(explicit)
        except Exception as exc:  # an explicit folder that vanished
            self.status.setText(str(exc))
        self.components.clear()
        if found is None:
            self.status.setText(
                f"{self._weights.missing_weights(explicit)}. The Instant engine works without them. "
                "Choose a folder that holds them, or Download (about 10 GB)."
            )
        else:
            self.status.setText(f"Using {found}. Press Verify to check every component.")

    def verify(self) -> None:
        try:
            folder = self._weights.find_weights(self.current)
        except Exception as exc:
            self.status.setText(str(exc))
            return
        if folder is None:
            self.status.setText(f"Nothing to verify: {self._weights.missing_weights(self.current)}.")
            return
        report = self._weights.verify_weights(folder)
        self.components.clear()
        for c in report.components:
            QTreeWidgetItem(self.components, [c.name, c.status, c.message])
        self.status.setText(report.summary())
        self.on_weights_changed(folder if report.ok else None)

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder with the FaceLift weights")
        if folder:
            self.set_folder(Path(folder))

    def set_folder(self, folder: Path) -> None:
        self.current = folder
        self.refresh()
        self.verify()

    def start_download(self) -> None:
        if self._task is not None:
            return
        target = self.current
        download = self._download

        def job(on_progress: ProgressCallback, cancel: CancelToken) -> Any:
            return download(target, on_progress=on_progress, cancel=cancel)

        task = TaskJob(job, "weights-download")
        self._task = task
        task.progress.connect(self._on_progress)
        task.finished.connect(self._on_done)
        task.failed.connect(self._on_failed)
        task.cancelled.connect(self._on_cancelled)
        self.bar.setVisible(True)
        self.bar.setRange(0, 0)
        self.download_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.status.setText("Downloading… (you accept the non-commercial research licence)")
        task.start()

    def cancel_download(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self.status.setText("Cancelling after the current file…")

    def _on_progress(self, event: ProgressEvent) -> None:
        if event.total > 0:
            self.bar.setRange(0, event.total)
            self.bar.setValue(event.step)
        self.status.setText(event.message or event.stage)

    def _end_task(self) -> None:
        if self._task is not None:
            self._task.shutdown()
            self._task = None
        self.bar.setVisible(False)
        self.download_button.setEnabled(True)
        self.cancel_button.setEnabled(False)

    def _on_done(self, path: object) -> None:
        self._end_task()
        self.current = Path(str(path))
        self.refresh()
        self.verify()

    def _on_failed(self, failure: Failure) -> None:
        self._end_task()
        self.status.setText(f"Download failed: {failure.reason}")

    def _on_cancelled(self) -> None:
        self._end_task()
        self.status.setText("Download cancelled; a later Download resumes where it stopped.")

    def done(self, result: int) -> None:
        if self._task is not None:
            self._task.shutdown()
            self._task = None
        super().done(result)
