"""Progress panel: Reconstruct / Cancel, stage, step k/N, elapsed and remaining time."""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine.api import ProgressEvent

STAGE_TITLES = {
    "load": "Loading models",
    "preprocess": "Preprocessing",
    "instant": "Instant reconstruction",
    "preview": "Instant preview",
    "diffusion": "Multi-view diffusion",
    "gslrm": "GS-LRM reconstruction",
    "render": "Rendering",
    "export": "Exporting",
    "mesh": "Making the mesh",
    "download": "Downloading",
    "rig": "Rigging the head",
    "track": "Tracking the driver",
    "animate": "Computing the frames",
}


def format_seconds(seconds: float) -> str:
    seconds = max(0, round(seconds))
    minutes, s = divmod(seconds, 60)
    return f"{minutes}:{s:02d}"


class ProgressPanel(QWidget):
    """Buttons and a live readout of the current run."""

    reconstruct_requested = Signal()
    cancel_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.reconstruct_button = QPushButton("Reconstruct")
        self.reconstruct_button.setObjectName("primary")
        self.reconstruct_button.setToolTip("Reconstruct the photo in 3D (Ctrl+R)")
        self.reconstruct_button.clicked.connect(self.reconstruct_requested)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the current run (Esc)")
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.cancel_button.setEnabled(False)
        self.stage_label = QLabel("Idle")
        self.stage_label.setObjectName("stage")
        self.step_label = QLabel("")
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setValue(0)
        self.bar.setTextVisible(False)
        self.elapsed_label = QLabel("Elapsed —")
        self.remaining_label = QLabel("Remaining —")
        for w in (self.step_label, self.elapsed_label, self.remaining_label):
            w.setObjectName("dim")

        buttons = QHBoxLayout()
        buttons.addWidget(self.reconstruct_button, 2)
        buttons.addWidget(self.cancel_button, 1)
        grid = QGridLayout()
        grid.addWidget(self.stage_label, 0, 0)
        grid.addWidget(self.step_label, 0, 1)
        grid.addWidget(self.elapsed_label, 1, 0)
        grid.addWidget(self.remaining_label, 1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(self.bar)
        layout.addLayout(grid)

        self._t0 = 0.0
        self._stage = ""
        self._stage_t0 = 0.0
        self._last: ProgressEvent | None = None
        self.running = False
        self._tick = QTimer(self)
        self._tick.setInterval(500)
        self._tick.timeout.connect(self._update_times)

    def start(self) -> None:
        self.running = True
        self._t0 = time.monotonic()
        self._stage = ""
        self._last = None
        self.stage_label.setText("Starting…")
        self.step_label.setText("")
        self.bar.setRange(0, 0)  # busy until the first event with a total
        self.reconstruct_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self._tick.start()
        self._update_times()

    def update_progress(self, event: ProgressEvent) -> None:
        if event.stage != self._stage:
            self._stage = event.stage
            self._stage_t0 = time.monotonic()
        self._last = event
        title = STAGE_TITLES.get(event.stage, event.stage.capitalize())
        self.stage_label.setText(title)
        self.stage_label.setToolTip(event.message)
        if event.total > 0:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(1000 * min(1.0, event.fraction)))
            self.step_label.setText(f"step {event.step}/{event.total}")
        else:
            self.bar.setRange(0, 0)
            self.step_label.setText(event.message)
        self._update_times()

    def stop(self, outcome: str) -> None:
        """Back to idle; ``outcome`` is shown as the stage text (Done / Cancelled / Failed)."""
        self.running = False
        self._tick.stop()
        self.stage_label.setText(outcome)
        self.step_label.setText("")
        self.bar.setRange(0, 1000)
        self.bar.setValue(1000 if outcome.startswith("Done") else 0)
        self.remaining_label.setText("Remaining —")
        self.reconstruct_button.setEnabled(True)
        self.cancel_button.setEnabled(False)

    def remaining_seconds(self) -> float | None:
        """Estimate for the current stage from its pace so far (None when unknown)."""
        ev = self._last
        if ev is None or ev.total <= 0 or ev.step <= 0:
            return None
        spent = time.monotonic() - self._stage_t0
        return spent / ev.step * max(0, ev.total - ev.step)

    def _update_times(self) -> None:
        if not self.running:
            return
        self.elapsed_label.setText(f"Elapsed {format_seconds(time.monotonic() - self._t0)}")
        left = self.remaining_seconds()
        self.remaining_label.setText("Remaining —" if left is None else f"Remaining ~{format_seconds(left)}")
