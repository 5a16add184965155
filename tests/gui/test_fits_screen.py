"""The window fits a 1280x720 laptop screen, in the app's own theme, with every tool reachable.

The viewport's tool row (camera buttons, Top, Reset, Background) moves what does not fit into
its "⋯" menu; the status bar's message is elided to the room it has, whole in its tooltip.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from facelift_desktop.models import ViewPreset

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


def _where_each_tool_is(window) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Each viewport tool's text -> "row" (shown in the window) or "menu" (in the "⋯" menu)."""
    row = window.viewport.tool_row
    menu = {a.text() for a in row.overflow_menu.actions()}
    menu_shown = _inside(row.overflow_button, window)
    places = {}
    for button in row.buttons():
        if _inside(button, window):
            places[button.text()] = "row"
        elif button.text() in menu and menu_shown:
            places[button.text()] = "menu"
        else:
            places[button.text()] = "nowhere"
    return places


def _resize(qtbot, window, width: int, height: int) -> None:  # type: ignore[no-untyped-def]
    window.resize(width, height)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == (width, height), timeout=5000)
    QApplication.processEvents()


TOOLS = ["Front", "Front right", "Right", "Back", "Left", "Front left", "Top", "Reset (F)", "Background"]


def test_the_window_fits_a_1280x720_screen_with_every_tool_on_it(  # type: ignore[no-untyped-def]
    qtbot, make_window, themed, no_weights
) -> None:
    window = make_window()
    smallest = window.minimumSizeHint().expandedTo(window.minimumSize())
    assert smallest.width() <= ROOM[0] and smallest.height() <= ROOM[1], smallest
    _resize(qtbot, window, *SCREEN)
    assert _where_each_tool_is(window) == dict.fromkeys(TOOLS, "row")  # all fit at 1280


def test_tools_with_no_room_are_in_the_overflow_menu_and_do_what_the_buttons_do(  # type: ignore[no-untyped-def]
    qtbot, make_window, themed, no_weights
) -> None:
    window = make_window()
    row = window.viewport.tool_row
    _resize(qtbot, window, window.minimumSizeHint().width(), 600)
    places = _where_each_tool_is(window)
    assert set(places) == set(TOOLS) and "nowhere" not in places.values(), places
    assert places["Background"] == "menu" and places["Front"] == "row", places

    background = {a.text(): a for a in row.overflow_menu.actions()}["Background"]
    with qtbot.waitSignal(window.viewport.bg_button.clicked, timeout=2000):
        background.trigger()  # the entry clicks the button: B's action, as before

    # a model with many cameras: more buttons, the same smallest window, all still reachable
    many = [ViewPreset(f"camera_{i}", 15.0 * i, 10.0, 2.7) for i in range(16)]
    before = window.minimumSizeHint().width()
    window.viewport.set_presets(many)
    QApplication.processEvents()
    assert window.minimumSizeHint().width() == before
    places = _where_each_tool_is(window)
    assert len(places) == 16 + 3 and "nowhere" not in places.values(), places
    assert places["Camera 15"] == "menu"

    _resize(qtbot, window, 1920, 900)  # room again: the row takes its buttons back
    window.viewport.set_presets(many[:6])
    QApplication.processEvents()
    assert set(_where_each_tool_is(window).values()) == {"row"}
    assert not row.overflow_button.isVisible()


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
