"""Help → Check this computer…: the report of ``facelift doctor`` in a window, with a Copy button.

The checks run on a background thread (a minute on a slow CPU); each line appears as it is known,
the window stays responsive, and closing the dialog stops the run between two checks. The text is
``engine.doctor.report.as_text`` -- the very report the command prints.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

Runner = Callable[[Callable[[Any], None], Callable[[], bool]], Any]
"""runner(on_result, should_stop) -> DoctorReport (the default runs engine.doctor.run.run_doctor)."""


def _run_doctor(on_result: Callable[[Any], None], should_stop: Callable[[], bool]) -> Any:
    from engine.doctor.run import run_doctor

    return run_doctor(on_result=on_result, should_stop=should_stop)


class _Relay(QObject):
    line = Signal(str)
    done = Signal(object)
    failed = Signal(str)


class DoctorDialog(QDialog):
    """Runs the doctor when shown; ``report_text()`` is what Copy puts on the clipboard."""

    def __init__(self, parent: QWidget | None = None, runner: Runner | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Check this computer")
        self.resize(900, 560)
        self._runner = runner or _run_doctor
        self._stop = threading.Event()
        self._report: Any = None
        self.status = QLabel(
            "Checking this computer: the environment, then FaceLift's networks on each device…"
        )
        self.status.setWordWrap(True)
        self.text = QPlainTextEdit(readOnly=True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.copy_button = QPushButton("Copy report")
        self.copy_button.setEnabled(False)
        self.copy_button.clicked.connect(self.copy_report)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.copy_button)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.text, 1)
        layout.addLayout(buttons)
        self._relay = _Relay()
        self._relay.line.connect(self.text.appendPlainText)
        self._relay.done.connect(self._finished)
        self._relay.failed.connect(self._failed)
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the checks on a background thread (once)."""
        if self._thread is not None:
            return

        # The thread holds the relay, the runner and the stop flag, never the dialog: if it held
        # the last reference to a closed dialog, the dialog would be destroyed on this thread
        # when the run ends, while the GUI thread may be painting it (a segfault).
        relay, runner, stop = self._relay, self._runner, self._stop

        def work() -> None:
            from engine.doctor.report import result_line

            try:
                report = runner(lambda r: relay.line.emit(result_line(r)), stop.is_set)
            except Exception as exc:  # a bug: shown in the dialog, never a crash of the window
                relay.failed.emit(" ".join(f"{type(exc).__name__}: {exc}".split()))
                return
            relay.done.emit(report)

        self._thread = threading.Thread(target=work, name="facelift-doctor", daemon=True)
        self._thread.start()

    def _finished(self, report: Any) -> None:
        from engine.doctor.report import as_text

        self._report = report
        self.text.setPlainText(as_text(report))
        self.copy_button.setEnabled(True)
        if self._stop.is_set():
            self.status.setText("Stopped before every check ran.")
        elif report.ok:
            self.status.setText("Every check that can run on this computer passed.")
        else:
            self.status.setText(
                f"{len(report.failures)} check(s) FAILED: see “What the failures mean” at the end. "
                "Copy the report into a bug report."
            )

    def _failed(self, reason: str) -> None:
        self.status.setText(f"The check could not finish: {reason}")
        self.copy_button.setEnabled(bool(self.text.toPlainText()))

    def report_text(self) -> str:
        return self.text.toPlainText()

    def copy_report(self) -> None:
        QGuiApplication.clipboard().setText(self.report_text())

    def closeEvent(self, event: Any) -> None:  # noqa: N802 (Qt name)
        self._stop.set()  # the run stops between two checks
        super().closeEvent(event)
