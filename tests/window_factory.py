"""Making MainWindows in tests: one factory behind the GUI, GL and reliability fixtures.

``window_factory(qtbot, settings_path)`` is a context manager yielding ``make(**kwargs)``:
each call builds a MainWindow on ``settings_path`` (``kwargs`` go to MainWindow, e.g.
engine_factory, use_gl), shows it with non-modal failure dialogs (``last_failure_dialog`` holds
the last one) and waits until it is exposed; every window is shut down on exit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def window_factory(qtbot: Any, settings_path: Path) -> Iterator[Callable[..., Any]]:
    from facelift_desktop.main_window import MainWindow
    from facelift_desktop.settings import AppSettings

    made: list[MainWindow] = []

    def make(size: tuple[int, int] | None = None, **kwargs: Any) -> MainWindow:
        window = MainWindow(AppSettings.at_path(settings_path), **kwargs)
        window.modal_dialogs = False
        qtbot.addWidget(window)
        if size is not None:
            window.resize(*size)
        window.show()
        window.activateWindow()
        qtbot.waitExposed(window)
        made.append(window)
        return window

    try:
        yield make
    finally:
        for w in made:
            w.shutdown()


def drop_file(window: Any, path: Path, at: tuple[float, float] = (200, 200)) -> None:
    """Drop ``path`` on ``window`` as a file manager does (a copy action carrying its URL)."""
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDropEvent

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(
        QPointF(*at),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(event)
