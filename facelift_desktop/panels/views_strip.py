"""The generated views as a strip of thumbnails, one per view of the model; click one to enlarge it."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from engine.geometry import VIEW_NAMES
from facelift_desktop.images import to_pixmap

THUMB = 96


class ClickableLabel(QLabel):
    clicked = Signal()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt name)
        if (
            event.button() == Qt.MouseButton.LeftButton
            and self.pixmap() is not None
            and not self.pixmap().isNull()
        ):
            self.clicked.emit()
        super().mouseReleaseEvent(event)


class ImageDialog(QDialog):
    """A bigger look at one view."""

    def __init__(self, image: np.ndarray, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        label = QLabel()
        label.setPixmap(to_pixmap(image, 640))
        layout = QVBoxLayout(self)
        layout.addWidget(label)


class ViewsStrip(QWidget):
    """One thumbnail per view of the picked model, in view order (FaceLift's six: front,
    front-right, right, back, left, front-left)."""

    view_clicked = Signal(int)

    def __init__(self) -> None:
        super().__init__()
        self.views: np.ndarray | None = None
        self.names: tuple[str, ...] = ()
        self.thumbs: list[ClickableLabel] = []
        self._row = QHBoxLayout()
        self._row.setContentsMargins(0, 0, 0, 0)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._row)
        self.note = QLabel("")
        self.note.setObjectName("dim")
        self.note.setWordWrap(True)
        self.note.setMaximumWidth(260)
        layout.addWidget(self.note)
        layout.addStretch(1)
        self.dialog: ImageDialog | None = None
        self.set_names(VIEW_NAMES)

    def set_names(self, names: tuple[str, ...]) -> None:
        """One slot per view name (the picked model's views); the shown views are cleared."""
        if tuple(names) == self.names:
            return
        while self._row.count():
            item = self._row.takeAt(0)
            column = item.layout() if item is not None else None
            while column is not None and column.count():
                child = column.takeAt(0)
                widget = child.widget() if child is not None else None
                if widget is not None:
                    widget.deleteLater()
        self.names = tuple(names)
        self.thumbs = []
        for i, name in enumerate(self.names):
            col = QVBoxLayout()
            thumb = ClickableLabel()
            thumb.setObjectName("imageSlot")
            thumb.setFixedSize(THUMB, THUMB)
            thumb.setAlignment(Qt.AlignmentFlag.AlignCenter)
            thumb.setToolTip(f"{name.replace('_', ' ')} view — click to enlarge")
            thumb.clicked.connect(lambda i=i: self._open(i))
            caption = QLabel(name.replace("_", "-"))
            caption.setObjectName("dim")
            caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
            col.addWidget(thumb)
            col.addWidget(caption)
            self._row.addLayout(col)
            self.thumbs.append(thumb)
        self.set_views(None, self.note.text())

    def set_views(self, views: np.ndarray | None, note: str = "") -> None:
        """(V,H,W,3) uint8, one per name, or None (instant engine: no generated views); ``note`` explains."""
        self.views = views
        self.note.setText(note)
        for i, thumb in enumerate(self.thumbs):
            thumb.clear()
            if views is not None and i < len(views):
                thumb.setPixmap(to_pixmap(views[i], THUMB - 4))
            else:
                thumb.setText("—")

    def _open(self, index: int) -> None:
        if self.views is None:
            return
        self.view_clicked.emit(index)
        self.dialog = ImageDialog(self.views[index], f"View: {self.names[index].replace('_', ' ')}", self)
        self.dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialog.show()
