"""Shared checks for the reliability matrix (issue 9); the fixtures are in conftest.py.

Every case of the matrix asserts the same four things, so they live here:

* ``run_cli(...)`` runs ``facelift`` in a fresh interpreter (as a user would) and returns
  (exit code, stdout, stderr); ``assert_one_line_error`` checks stderr has no traceback and
  exactly the expected ``facelift: error:`` lines, each naming the file and the problem;
* ``assert_nothing_partial(folder)`` checks no temp / staging / partial file is left;
* conftest.py's ``gui_window`` builds a real MainWindow (real engines, no GL viewport) whose
  failure dialogs are recorded instead of shown modally, so a test can check the message and go
  on using it; ``isolated_home`` gives a fresh user's home with no weights.

Tests import these with ``from reliability_harness import ...`` (conftest puts this folder on
sys.path: pytest runs with --import-mode=importlib).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

PARTIAL_MARKERS = (".tmp-", ".partial-", ".tmp", ".incomplete", ".download")
"""Name fragments of the temp / staging files our writers use; none may survive a failure."""


@dataclass(frozen=True)
class CliRun:
    rc: int
    stdout: str
    stderr: str

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith("facelift: error:")]


def start_cli_as_terminal_job(
    args: Sequence[str], stdout: int | None = subprocess.DEVNULL
) -> subprocess.Popen[bytes]:
    """Start ``facelift ARGS`` as a command typed at a terminal: in a process group of its own
    (so a "Ctrl+C" can go to the whole group, ffmpeg included), stderr piped, and SIGINT at its
    default action. A shell starts background jobs with SIGINT ignored when job control is off
    (e.g. CI launched as ``cmd &`` from a script), and the ignore is inherited through pytest
    into every child, so without the reset a "pressed" Ctrl+C would silently do nothing to
    facelift while still killing its ffmpeg."""

    def default_sigint() -> None:
        import signal

        signal.signal(signal.SIGINT, signal.SIG_DFL)

    return subprocess.Popen(
        [sys.executable, "-m", "engine.cli", *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO), "PYTHONIOENCODING": "utf-8"},
        cwd=str(REPO),
        start_new_session=True,
        preexec_fn=default_sigint,
    )


def run_cli(
    *args: str | os.PathLike[str],
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    user: str | None = None,
    timeout: float = 300,
    wrapper: Sequence[str] = (),
    python: str | None = None,
) -> CliRun:
    """``facelift ARGS`` in a subprocess with this interpreter (or ``python``); ``user`` drops root
    to that user; ``wrapper`` runs it under another command (e.g. setpriv dropping root's
    permission override)."""
    full_env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONIOENCODING": "utf-8", **(env or {})}
    proc = subprocess.run(
        [*wrapper, python or sys.executable, "-m", "engine.cli", *map(str, args)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        env=full_env,
        cwd=str(cwd or REPO),
        timeout=timeout,
        user=user,
        check=False,
    )
    return CliRun(proc.returncode, proc.stdout, proc.stderr)


def assert_one_line_error(run: CliRun, rc: int, *must_contain: str, lines: int = 1) -> str:
    """The run exited ``rc`` with no traceback and ``lines`` one-line errors; the first contains
    every string of ``must_contain`` (case-insensitive). Returns that line."""
    assert "Traceback" not in run.stderr, run.stderr
    assert run.rc == rc, f"exit {run.rc}, expected {rc}; stderr:\n{run.stderr}"
    errors = run.error_lines
    assert len(errors) == lines, f"expected {lines} error line(s), got {errors!r}\n{run.stderr}"
    first = errors[0]
    for text in must_contain:
        assert text.lower() in first.lower(), f"{text!r} not in {first!r}"
    return first


def assert_message(message: str, *must_contain: str) -> None:
    """A user-facing message: one line, naming every string of ``must_contain``."""
    assert "\n" not in message, repr(message)
    assert "Traceback" not in message
    for text in must_contain:
        assert text.lower() in message.lower(), f"{text!r} not in {message!r}"


def leftovers(folder: Path) -> list[Path]:
    """Temp / staging / partial files anywhere under ``folder`` (recursively)."""
    if not folder.exists():
        return []
    return sorted(p for p in folder.rglob("*") if any(m in p.name for m in PARTIAL_MARKERS))


def assert_nothing_partial(folder: Path, allowed: Sequence[str] = ()) -> None:
    """No temp/staging file under ``folder``; with ``allowed`` given, no other file either."""
    left = leftovers(folder)
    assert not left, f"partial files left: {left}"
    if allowed:
        extra = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
        assert set(extra) <= set(allowed), f"unexpected files: {sorted(set(extra) - set(allowed))}"
