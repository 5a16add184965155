"""Input panel: the photo, its preprocessed crop, Open… and the recent files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMenu, QPushButton, QToolButton, QVBoxLayout, QWidget

from facelift_desktop.images import to_pixmap

THUMB = 150


class ImageSlot(QLabel):
    """A framed square showing an image or a hint text."""

    def __init__(self, hint: str) -> None:
        super().__init__(hint)
        self.setObjectName("imageSlot")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setFixedSize(THUMB, THUMB)
        self.setWordWrap(True)
        self._hint = hint
        self.has_image = False

    def show_image(self, image: np.ndarray | None) -> None:
        if image is None:
            self.clear()
            self.setText(self._hint)
            self.has_image = False
        else:
            self.setPixmap(to_pixmap(image, THUMB - 6))
            self.has_image = True


class InputPanel(QWidget):
    """Shows the photo and the crop the engine used. Drops are handled by the window."""

    open_requested = Signal()
    recent_chosen = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.photo = ImageSlot("Drop a portrait photo here\nor click Open…")
        self.crop = ImageSlot("Preprocessed\ncrop")
        self.path_label = QLabel("No photo")
        self.path_label.setObjectName("dim")
        self.path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.open_button = QPushButton("Open…")
        self.open_button.setToolTip("Open a photo (Ctrl+O)")
        self.open_button.clicked.connect(self.open_requested)
        self.recent_button = QToolButton()
        self.recent_button.setText("Recent")
        self.recent_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.recent_menu = QMenu(self)
        self.recent_button.setMenu(self.recent_menu)

        images = QHBoxLayout()
        images.addWidget(self.photo)
        images.addWidget(self.crop)
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.recent_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(images)
        layout.addWidget(self.path_label)
        layout.addLayout(buttons)

    def set_photo(self, image: np.ndarray | None, path: str | None = None) -> None:
        self.photo.show_image(image)
        self.path_label.setText(Path(path).name if path else ("Image" if image is not None else "No photo"))
        self.path_label.setToolTip(path or "")
        self.crop.show_image(None)

    def set_crop(self, image: np.ndarray | None) -> None:
        self.crop.show_image(image)

    def set_recent(self, files: list[str]) -> None:
        self.recent_menu.clear()
        for f in files:
            action = self.recent_menu.addAction(Path(f).name)
            action.setToolTip(f)
            action.triggered.connect(lambda _=False, f=f: self.recent_chosen.emit(f))
        self.recent_button.setEnabled(bool(files))
