"""StatusField: a one-line label that keeps its whole text and shows what fits, elided.

The status bar's message (facelift_desktop/window/layout.py) is one: an error naming a long
file path must neither widen the window nor push the permanent labels (model, device, count,
fps) off its right edge. The viewport's mouse hint (facelift_desktop/panels/viewport_panel.py)
is another. ``text()`` is always the whole text (what the window set); the label draws it elided
to its width and, when elided, the tooltip holds the whole text.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

MIN_CHARS = 6
"""The minimum width is this many average characters (about "Fai…h"): small, whatever the text."""


class StatusField(QLabel):
    """A QLabel for one line of text that never asks for more width than ``MIN_CHARS`` characters.

    text: the whole text (may be any length; newlines are shown as spaces).
    elide: where the ``…`` goes when the text does not fit: ``Qt.ElideMiddle`` (default: keeps a
        message's start and a path's file name) or ``Qt.ElideRight``.
    """

    def __init__(
        self,
        text: str = "",
        elide: Qt.TextElideMode = Qt.TextElideMode.ElideMiddle,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._full = ""
        self._elide = elide
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(False)
        # Preferred: it takes its hint when there is room and shrinks to minimumSizeHint when not
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.setText(text)

    # ---- the text ---------------------------------------------------------------------

    def setText(self, text: str) -> None:  # noqa: N802 (Qt's name)
        """Keep ``text`` whole and show as much of it as the current width allows."""
        self._full = " ".join(str(text).splitlines())
        self.updateGeometry()  # the size hint follows the whole text
        self._refresh()

    def text(self) -> str:
        """The whole text, as set (not the elided text drawn)."""
        return self._full

    def shown_text(self) -> str:
        """The text drawn: the whole text, or an elided form of it with ``…``."""
        return super().text()

    def is_elided(self) -> bool:
        """True when the drawn text is shorter than the whole text."""
        return self.shown_text() != self._full

    # ---- size -------------------------------------------------------------------------

    def _extra_width(self) -> int:
        """Pixels around the text: contents margins (stylesheet padding) and the label's margin."""
        margins = self.contentsMargins()
        return margins.left() + margins.right() + 2 * self.margin()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        """The width of the whole text (what it would like), the height of one line."""
        base = super().sizeHint()
        width = self.fontMetrics().horizontalAdvance(self._full) + self._extra_width()
        return QSize(width, base.height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        """``MIN_CHARS`` average characters wide at most, whatever the text's length."""
        base = super().minimumSizeHint()
        small = self.fontMetrics().averageCharWidth() * MIN_CHARS + self._extra_width()
        return QSize(min(small, self.sizeHint().width()), base.height())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._refresh()

    def _refresh(self) -> None:
        """Draw the whole text elided to the width there is; tooltip the whole text if elided."""
        width = max(0, self.contentsRect().width() - 2 * self.margin())
        shown = self.fontMetrics().elidedText(self._full, self._elide, width)
        super().setText(shown)
        self.setToolTip(self._full if shown != self._full else "")
