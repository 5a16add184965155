"""numpy <-> Qt image helpers."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap


def to_qimage(array: np.ndarray) -> QImage:
    """A deep-copied QImage from (H,W,3) or (H,W,4) uint8 RGB(A), or (H,W) uint8 gray."""
    arr = np.ascontiguousarray(array)
    if arr.dtype != np.uint8:
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    if arr.ndim == 2:
        h, w = arr.shape
        return QImage(arr.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
    h, w, c = arr.shape
    fmt = QImage.Format.Format_RGB888 if c == 3 else QImage.Format.Format_RGBA8888
    return QImage(arr.data, w, h, w * c, fmt).copy()


def to_pixmap(array: np.ndarray, max_side: int | None = None) -> QPixmap:
    """A QPixmap of ``array``, scaled (smoothly, aspect kept) to fit ``max_side`` if given."""
    pix = QPixmap.fromImage(to_qimage(array))
    if max_side is not None and max(pix.width(), pix.height()) > max_side:
        pix = pix.scaled(
            max_side, max_side, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
        )
    return pix


def from_qimage(image: QImage) -> np.ndarray:
    """(H,W,3) uint8 RGB copy of a QImage."""
    img = image.convertToFormat(QImage.Format.Format_RGB888)
    w, h = img.width(), img.height()
    buf = np.frombuffer(img.constBits(), dtype=np.uint8, count=img.bytesPerLine() * h)
    return buf.reshape(h, img.bytesPerLine())[:, : w * 3].reshape(h, w, 3).copy()
