"""Animate panel: drop (or open) a driver video or photo, then play / pause / scrub its frames
and export the animation. Widgets only: the window (facelift_desktop/window/animate.py) runs
the driver as a job and plays the frames through the scene model."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from engine.animate import webcam

DROP_HINT = "Drop a driver video or photo here to animate the head"


class AnimatePanel(QWidget):
    """Driver drop target, Open driver…, Record webcam (seconds), Play/Pause, the frame slider,
    Export MP4…, Stop."""

    driver_chosen = Signal(object)  # Path: a dropped file
    open_requested = Signal()
    record_requested = Signal(float)  # seconds of webcam to record
    play_toggled = Signal()
    frame_chosen = Signal(int)  # the slider moved by the user
    export_requested = Signal()
    stop_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setAcceptDrops(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.driver_label = QLabel(DROP_HINT)
        self.driver_label.setObjectName("dim")
        self.driver_label.setWordWrap(True)
        layout.addWidget(self.driver_label)

        row = QHBoxLayout()
        self.open_button = QPushButton("Open driver…")
        self.open_button.setToolTip(
            "A face video (or one photo) whose head pose and expression drive the head"
        )
        self.open_button.clicked.connect(self.open_requested)
        self.play_button = QPushButton("Play")
        self.play_button.clicked.connect(self.play_toggled)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Back to the static head")
        self.stop_button.clicked.connect(self.stop_requested)
        for b in (self.open_button, self.play_button, self.stop_button):
            row.addWidget(b)
        layout.addLayout(row)

        cam = QHBoxLayout()
        self.record_button = QPushButton("Record webcam")
        self.record_seconds = QDoubleSpinBox()
        self.record_seconds.setRange(1.0, 60.0)
        self.record_seconds.setDecimals(0)
        self.record_seconds.setSuffix(" s")
        self.record_seconds.setValue(webcam.WEBCAM_SECONDS)
        self.record_button.clicked.connect(lambda: self.record_requested.emit(self.record_seconds.value()))
        cam.addWidget(self.record_button, 1)
        cam.addWidget(self.record_seconds)
        layout.addLayout(cam)
        self.has_camera = webcam.camera_present(0)
        self.record_button.setToolTip(
            "Record your face with the webcam, then drive the head with the clip"
            if self.has_camera
            else "No webcam found (/dev/video0): drop a face video instead"
        )

        scrub = QHBoxLayout()
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.valueChanged.connect(self.frame_chosen)
        self.frame_label = QLabel("—")
        self.frame_label.setMinimumWidth(64)
        scrub.addWidget(self.slider, 1)
        scrub.addWidget(self.frame_label)
        layout.addLayout(scrub)

        self.export_button = QPushButton("Export MP4…")
        self.export_button.clicked.connect(self.export_requested)
        layout.addWidget(self.export_button)
        self.set_frames(0)
        self.set_busy(False)

    def set_frames(self, count: int, driver: Path | None = None) -> None:
        """``count`` frames ready (0: none); the driver's name is shown."""
        ready = count > 0
        self._count = count
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, count - 1))
        self.slider.setValue(0)
        self.slider.blockSignals(False)
        for w in (self.play_button, self.stop_button, self.slider, self.export_button):
            w.setEnabled(ready)
        self.driver_label.setText(f"{driver.name}: {count} frames" if ready and driver else DROP_HINT)
        self.show_frame(0, count)
        self.set_playing(False)

    def show_frame(self, index: int, count: int) -> None:
        """The slider and label at frame ``index`` of ``count`` (the slider emits nothing)."""
        self.slider.blockSignals(True)
        self.slider.setValue(index)
        self.slider.blockSignals(False)
        self.frame_label.setText(f"{index + 1} / {count}" if count else "—")

    def set_playing(self, playing: bool) -> None:
        self.play_button.setText("Pause" if playing else "Play")

    def set_busy(self, busy: bool) -> None:
        """While a job runs nothing here starts another (the Run panel's Cancel stops it)."""
        self.open_button.setEnabled(not busy)
        self.record_button.setEnabled(self.has_camera and not busy)
        self.record_seconds.setEnabled(self.has_camera and not busy)
        self.export_button.setEnabled(self._count > 0 and not busy)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt name)
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt name)
        urls = [u for u in event.mimeData().urls() if u.isLocalFile()]
        if urls and self.open_button.isEnabled():
            event.acceptProposedAction()
            self.driver_chosen.emit(Path(urls[0].toLocalFile()))
