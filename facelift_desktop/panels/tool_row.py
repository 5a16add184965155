"""ToolRow: the viewport's row of tool buttons, with a "⋯" menu for the ones that do not fit.

Like the overflow of a 3D tool's header bar: the buttons are laid out in order, left-aligned
("leading": the camera buttons, Top, Reset) and right-aligned ("trailing": Background), with a
hint label in the gap between them, drawn elided. When the row is narrower than its buttons,
the last ones (trailing first, then leading from the right) leave the row for the "⋯" button's
menu, where each is an entry that clicks it; they come back as the row widens. So the row's
minimum width is the "⋯" button's, whatever the model's cameras, and every tool stays reachable.
"""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QMenu, QSizePolicy, QToolButton, QWidget

SPACING = 2
"""Pixels between two buttons."""
HINT_GAP = 12
"""Pixels between the hint and the buttons either side of it."""
MIN_HINT = 48
"""The hint is left out (not squeezed to a lone "…") when less than this many pixels are free."""


class ToolRow(QWidget):
    """A row of QToolButtons whose minimum width is its overflow ("⋯") button's.

    Buttons belong to the row (it reparents them); ``set_leading`` replaces the left-aligned
    ones (the caller deletes the ones it drops), ``add_trailing`` appends a right-aligned one,
    ``set_hint`` puts a widget (an elided label) in the gap. ``overflow_button`` (objectName
    ``viewportOverflow``) opens ``overflow_menu``, one entry per button not shown in the row.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._leading: list[QToolButton] = []
        self._trailing: list[QToolButton] = []
        self._hint: QWidget | None = None
        self._overflowed: list[QToolButton] = []
        self.overflow_menu = QMenu(self)
        self.overflow_menu.setToolTipsVisible(True)
        self.overflow_button = QToolButton(self)
        self.overflow_button.setObjectName("viewportOverflow")
        self.overflow_button.setText("⋯")
        self.overflow_button.setToolTip("More view tools (the ones the row has no room for)")
        self.overflow_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.overflow_button.setMenu(self.overflow_menu)
        self.overflow_button.hide()
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    # ---- contents ---------------------------------------------------------------------

    def set_leading(self, buttons: list[QToolButton]) -> None:
        """The left-aligned buttons, in order (the ones they replace are hidden, not deleted)."""
        for b in self._leading:
            if b not in buttons:
                b.hide()
        self._leading = list(buttons)
        for b in self._leading:
            b.setParent(self)
        self._contents_changed()

    def add_trailing(self, button: QToolButton) -> None:
        """Append a right-aligned button (the first to move into the menu when room is short)."""
        button.setParent(self)
        self._trailing.append(button)
        self._contents_changed()

    def set_hint(self, widget: QWidget) -> None:
        """A widget for the gap between the leading and trailing buttons (drawn when it fits)."""
        widget.setParent(self)
        self._hint = widget
        self._contents_changed()

    def buttons(self) -> list[QToolButton]:
        """Every tool of the row in order, shown or in the menu (not the "⋯" button)."""
        return [*self._leading, *self._trailing]

    def overflowed(self) -> list[QToolButton]:
        """The buttons now in the "⋯" menu, in row order."""
        return list(self._overflowed)

    def _contents_changed(self) -> None:
        self.updateGeometry()
        self._relayout()

    # ---- size -------------------------------------------------------------------------

    def _row_height(self) -> int:
        heights = [b.sizeHint().height() for b in (*self.buttons(), self.overflow_button)]
        if self._hint is not None:
            heights.append(self._hint.sizeHint().height())
        return max(heights)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        """Every button in the row, and the whole hint between them."""
        buttons = self.buttons()
        width = sum(b.sizeHint().width() for b in buttons) + SPACING * max(0, len(buttons) - 1)
        if self._hint is not None:
            width += self._hint.sizeHint().width() + 2 * HINT_GAP
        return QSize(width, self._row_height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        """The "⋯" button alone: every tool can be in its menu."""
        return QSize(self.overflow_button.sizeHint().width(), self._row_height())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._relayout()

    # ---- layout -----------------------------------------------------------------------

    def _fitting(self, width: int) -> int:
        """How many of ``buttons()``, from the first, the row shows at ``width`` pixels."""
        widths = [b.sizeHint().width() for b in self.buttons()]
        if sum(widths) + SPACING * max(0, len(widths) - 1) <= width:
            return len(widths)
        room = width - self.overflow_button.sizeHint().width() - SPACING
        used, count = 0, 0
        for w in widths:
            need = used + (SPACING if count else 0) + w
            if need > room:
                break
            used, count = need, count + 1
        return count

    def _relayout(self) -> None:
        """Place the buttons that fit, move the rest into the menu, give the hint the gap."""
        height = self.height()
        buttons = self.buttons()
        count = self._fitting(self.width())
        shown, overflowed = buttons[:count], buttons[count:]

        def place(b: QWidget, x: int) -> int:
            hint = b.sizeHint()
            b.setGeometry(x, max(0, (height - hint.height()) // 2), hint.width(), hint.height())
            return hint.width()

        left = 0
        for b in (b for b in self._leading if b in shown):
            left += place(b, left) + SPACING
        right = self.width()
        if overflowed:
            right -= place(self.overflow_button, right - self.overflow_button.sizeHint().width())
            right -= SPACING
        for b in reversed([b for b in self._trailing if b in shown]):
            right -= b.sizeHint().width()
            place(b, right)
            right -= SPACING
        for b in shown:
            b.show()
        for b in overflowed:
            b.hide()
        self.overflow_button.setVisible(bool(overflowed))
        if self._hint is not None:
            gap = (right - HINT_GAP) - (left + HINT_GAP)
            if gap >= MIN_HINT:
                self._hint.setGeometry(left + HINT_GAP, 0, gap, height)
                self._hint.show()
            else:
                self._hint.hide()
        if overflowed != self._overflowed:
            self._overflowed = overflowed
            self._fill_menu()

    def _fill_menu(self) -> None:
        """One entry per overflowed button: its text and tooltip; choosing it clicks the button."""
        self.overflow_menu.clear()
        for b in self._overflowed:
            action = self.overflow_menu.addAction(b.text())
            action.setToolTip(b.toolTip())
            action.setEnabled(b.isEnabled())
            action.triggered.connect(lambda _=False, b=b: b.click())
