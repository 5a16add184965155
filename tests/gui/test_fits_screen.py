"""The window fits a 1280x720 laptop screen, in the app's own theme.

The status bar's message is elided to the room it has, whole in its tooltip.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QLabel, QWidget

SCREEN = (1280, 720)
ROOM = (1260, 680)  # the screen less a title bar and a task bar


@pytest.fixture
def themed() -> Iterator[None]:
    """The app's theme (Fusion, dark palette, stylesheet) as facelift-desktop applies it."""
    from facelift_desktop.theme import apply_theme

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    style, palette, sheet = app.style().name(), QPalette(app.palette()), app.styleSheet()
    apply_theme(app)
    yield
    app.setStyleSheet(sheet)
    app.setPalette(palette)
    app.setStyle(style)


def _inside(widget: QWidget, window: QWidget) -> bool:
    """``widget`` is shown and wholly inside ``window``'s area."""
    if not widget.isVisible():
        return False
    top_left = widget.mapTo(window, widget.rect().topLeft())
    bottom_right = widget.mapTo(window, widget.rect().bottomRight())
    return window.rect().contains(top_left) and window.rect().contains(bottom_right)


def _resize(qtbot, window, width: int, height: int) -> None:  # type: ignore[no-untyped-def]
    window.resize(width, height)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == (width, height), timeout=5000)
    QApplication.processEvents()


def test_a_long_status_message_is_elided_whole_in_its_tooltip_and_never_widens_the_window(  # type: ignore[no-untyped-def]
    qtbot, make_window, themed, no_weights
) -> None:
    window = make_window()
    smallest = window.minimumSizeHint().width()
    width = max(SCREEN[0], smallest)  # this test is about the status bar, whatever the window's size
    _resize(qtbot, window, width, SCREEN[1])
    head, tail = "Failed: cannot write ", "/gaussians.ply: disk full"
    message = head + ("/a-very-long-folder-name" * 20)[: 400 - len(head) - len(tail)] + tail
    assert len(message) == 400
    window.status_message.setText(message)
    QApplication.processEvents()

    assert window.minimumSizeHint().width() == smallest
    assert window.width() == width
    drawn = QLabel.text(window.status_message)  # what the label draws
    assert window.status_message.text() == message  # what the window said, whole
    assert window.status_message.toolTip() == message
    assert "…" in drawn and len(drawn) < len(message)
    assert drawn.startswith(head) and drawn.endswith(tail)  # elided in the middle: the file is named
    for label in (window.model_label, window.device_label, window.count_label, window.fps_label):
        assert _inside(label, window), label.text()  # the permanent labels stay on screen

    window.status_message.setText("Opened portrait.png")
    QApplication.processEvents()
    assert QLabel.text(window.status_message) == "Opened portrait.png"
    assert window.status_message.toolTip() == ""  # nothing hidden, nothing to show


def test_status_field_asks_for_little_room_whatever_its_text(qtbot) -> None:  # type: ignore[no-untyped-def]
    from facelift_desktop.window.status_field import StatusField

    field = StatusField("x" * 100)
    qtbot.addWidget(field)
    small = field.minimumSizeHint().width()
    field.setText("x" * 400)
    assert field.minimumSizeHint().width() == small  # the same for 100 or 400 characters
    assert small < field.fontMetrics().horizontalAdvance("x" * 20)
    field.resize(200, field.sizeHint().height())
    assert field.text() == "x" * 400 and field.is_elided() and field.toolTip() == "x" * 400
