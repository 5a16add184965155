"""Log panel: the app's log records (any thread) in a read-only text view."""

from __future__ import annotations

import contextlib
import logging

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QPlainTextEdit

LOGGER_NAME = "facelift"


class _Bridge(QObject):
    line = Signal(str)


class QtLogHandler(logging.Handler):
    """Forwards formatted records through a queued signal (safe from worker threads)."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.bridge = _Bridge()
        self.setFormatter(logging.Formatter("%(asctime)s  %(levelname)-7s %(message)s", "%H:%M:%S"))

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(RuntimeError):  # the panel is gone (shutdown)
            self.bridge.line.emit(self.format(record))


class LogPanel(QPlainTextEdit):
    """Shows log lines of the ``facelift`` logger and the engine's."""

    def __init__(self) -> None:
        super().__init__()
        self.setReadOnly(True)
        self.setMaximumBlockCount(5000)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.handler = QtLogHandler()
        self.handler.bridge.line.connect(self.appendPlainText)
        self._loggers = [logging.getLogger(LOGGER_NAME), logging.getLogger("engine")]
        for logger in self._loggers:
            logger.addHandler(self.handler)
            if logger.level == logging.NOTSET or logger.level > logging.INFO:
                logger.setLevel(logging.INFO)

    def detach(self) -> None:
        """Remove the handler (the window is closing)."""
        for logger in self._loggers:
            logger.removeHandler(self.handler)
