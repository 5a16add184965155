"""Help → Check this computer…: the doctor's report in a window, line by line, then whole, with a
Copy button that puts exactly the report on the clipboard."""

from __future__ import annotations

import gc
import threading
import weakref

from PySide6.QtGui import QGuiApplication

from engine.doctor.environment import Environment
from engine.doctor.report import as_text
from engine.doctor.run import CheckResult, CheckSpec, DoctorReport
from facelift_desktop.doctor_dialog import DoctorDialog


def _report(status: str) -> DoctorReport:
    env = Environment()
    env.add("OS", "TestOS 1", "os", "TestOS 1")
    result = CheckResult(CheckSpec("gslrm", "cpu"), status, 2e-6 if status == "PASS" else 0.5, 5e-5, "detail")
    if status == "FAIL":
        result.advice = "results made here would be wrong"
    skip = CheckResult(CheckSpec("unet", "cuda", "*"), "SKIP", detail="no CUDA device")
    return DoctorReport(env, [result, skip], "cpu", "no CUDA device")


def test_report_lines_appear_then_the_whole_report_and_copy(qtbot) -> None:  # type: ignore[no-untyped-def]
    release = threading.Event()
    report = _report("PASS")

    def runner(on_result, should_stop):  # type: ignore[no-untyped-def]
        on_result(report.results[0])
        release.wait(10)
        return report

    dialog = DoctorDialog(runner=runner)
    qtbot.addWidget(dialog)
    dialog.start()
    qtbot.waitUntil(lambda: "PASS  GS-LRM" in dialog.report_text(), timeout=5000)
    assert not dialog.copy_button.isEnabled(), "nothing to copy before the report is complete"
    release.set()
    qtbot.waitUntil(dialog.copy_button.isEnabled, timeout=5000)
    assert dialog.report_text().rstrip("\n") == as_text(report).rstrip("\n")
    assert "no CUDA device" in dialog.report_text() and "passed" in dialog.status.text()
    dialog.copy_report()
    assert QGuiApplication.clipboard().text() == dialog.report_text()


def test_failed_check_is_named_in_the_status_and_the_report(qtbot) -> None:  # type: ignore[no-untyped-def]
    report = _report("FAIL")
    dialog = DoctorDialog(runner=lambda on_result, should_stop: report)
    qtbot.addWidget(dialog)
    dialog.start()
    qtbot.waitUntil(dialog.copy_button.isEnabled, timeout=5000)
    assert "1 check(s) FAILED" in dialog.status.text()
    assert "results made here would be wrong" in dialog.report_text()


def test_closing_stops_the_run_between_checks(qtbot) -> None:  # type: ignore[no-untyped-def]
    stopped = threading.Event()

    def runner(on_result, should_stop):  # type: ignore[no-untyped-def]
        for _ in range(200):
            if should_stop():
                stopped.set()
                break
            threading.Event().wait(0.02)
        return _report("PASS")

    dialog = DoctorDialog(runner=runner)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.start()
    dialog.close()
    assert stopped.wait(5)


def test_the_help_menu_has_the_check(make_window, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    started: list[DoctorDialog] = []
    monkeypatch.setattr(DoctorDialog, "start", lambda self: started.append(self))
    window = make_window()
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    action = next(a for a in help_menu.actions() if a.text() == "&Check this computer…")
    action.trigger()
    assert len(started) == 1 and started[0].isVisible()
    started[0].close()


def test_a_closed_dialog_is_not_kept_alive_by_its_run(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Closing the dialog mid-run and dropping it frees it at once, on the GUI thread. When the
    run's thread held the last reference, the dialog was destroyed on that thread as the run
    ended, while the GUI thread processed events: a segfault (about 1 run in 4 of this file)."""
    release, ended = threading.Event(), threading.Event()

    def runner(on_result, should_stop):  # type: ignore[no-untyped-def]
        release.wait(10)
        ended.set()
        return _report("PASS")

    dialog = DoctorDialog(runner=runner)
    dialog.show()
    dialog.start()
    dialog.close()
    gone = weakref.ref(dialog)
    del dialog
    gc.collect()
    try:
        assert gone() is None, "the doctor's thread keeps the closed dialog alive"
    finally:
        release.set()
    assert ended.wait(5)
    qtbot.wait(50)  # the run's last signals reach no dialog and nothing else
