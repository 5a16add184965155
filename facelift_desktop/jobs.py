"""One base for the window's background work: reconstructions, weight tasks and exports.

Every job has the same life (compare superqt's WorkerBase): ``start`` -> ``started``, any number of
``progress`` events, then exactly one of ``finished(value)`` / ``failed(Failure)`` /
``cancelled()``. A cancel is a request: ``cancel()`` sets the job's engine.api.CancelToken (a
threading.Event, safe from any thread), which the work checks between steps; a cancelled job is
not a failure. Where the work runs is the subclass's business:

- :class:`TaskJob` runs ``fn(on_progress, cancel)`` once on its own thread (weights download,
  mesh fusion, a turntable without a GL viewport);
- facelift_desktop.worker.EngineWorker keeps one thread for the session so models load once;
- facelift_desktop.turntable.FramesJob (turntables, animations) steps on the GUI loop (its
  frames come from OpenGL).

Signals emitted on a worker thread reach GUI-thread listeners queued, on the GUI loop.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal

from engine.api import Cancelled, CancelToken, FaceLiftError, NoWeights, OutOfMemory, ProgressCallback

WEIGHTS_HINT = "Tools → FaceLift weights… to download or choose them"
"""How to get the FaceLift weights, in the window's words (the engine's NoWeights says where it looked)."""


@dataclass(frozen=True)
class Failure:
    """A failed job as the failure dialog shows it.

    reason: one line for the user; details: the traceback / engine details;
    out_of_memory: the device ran out of memory (the dialog suggests a lower preset);
    suggested_preset: the memory preset the engine suggests trying (None: no lower one).
    """

    reason: str
    details: str
    out_of_memory: bool = False
    suggested_preset: str | None = None

    @classmethod
    def from_exception(cls, exc: BaseException) -> Failure:
        tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        oom = isinstance(exc, OutOfMemory)
        if isinstance(exc, FaceLiftError):
            reason = f"{exc} ({WEIGHTS_HINT})" if isinstance(exc, NoWeights) else str(exc)
            details = (exc.details + "\n\n" + tb) if exc.details else tb
        else:
            first = " ".join(str(exc).split()) or type(exc).__name__
            reason = f"{type(exc).__name__}: {first}"
            details = tb
        suggested = exc.suggested_preset if isinstance(exc, OutOfMemory) else None
        return cls(reason=reason, details=details, out_of_memory=oom, suggested_preset=suggested)


class Job(QObject):
    """A piece of background work with progress, cancel and one outcome (see the module)."""

    started = Signal()
    progress = Signal(object)  # ProgressEvent
    finished = Signal(object)  # the work's value
    failed = Signal(object)  # Failure
    cancelled = Signal()

    what = "job"
    """A few words naming the work in status lines ("reconstruction", "turntable", "GLB", ...)."""

    def __init__(self) -> None:
        super().__init__()
        self._token = CancelToken()
        self._running = False

    @property
    def running(self) -> bool:
        """True from ``start`` until the outcome is emitted."""
        return self._running

    @property
    def cancel_requested(self) -> bool:
        return self._token.cancelled

    def cancel(self) -> None:
        """Ask the work to stop at its next check; safe from any thread."""
        self._token.cancel()

    def _begin(self) -> CancelToken:
        """Mark the job running with a fresh token (GUI thread) and return the token."""
        self._token = CancelToken()
        self._running = True
        self.started.emit()
        return self._token

    def _succeed(self, value: object) -> None:
        self._running = False
        self.finished.emit(value)

    def _stop(self, exc: BaseException) -> None:
        """End with ``exc``: ``cancelled`` for engine.api.Cancelled, else ``failed``."""
        self._running = False
        if isinstance(exc, Cancelled):
            self.cancelled.emit()
        else:
            self.failed.emit(Failure.from_exception(exc))

    def _conclude(self, work: Callable[[], object], token: CancelToken) -> None:
        """Run ``work`` and emit its one outcome; a cancel seen after the work is a cancel too."""
        try:
            value = work()
            token.raise_if_cancelled()
        except Exception as exc:  # every failure becomes a dialog, never a crash
            self._stop(exc)
        else:
            self._succeed(value)


class TaskJob(Job):
    """Runs ``fn(on_progress, cancel) -> value`` once, on a thread of its own.

    what: a few words for status lines and the thread's name ("turntable", "mesh", ...).
    """

    def __init__(self, fn: Callable[[ProgressCallback, CancelToken], Any], what: str = "task") -> None:
        super().__init__()
        self.what = what
        self._fn = fn
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._running:
            raise RuntimeError(f"the {self.what} job is already running")
        token = self._begin()
        fn, emit = self._fn, self.progress.emit
        self._thread = threading.Thread(
            target=self._conclude, args=(lambda: fn(emit, token), token), name=f"facelift-{self.what}"
        )
        self._thread.start()

    def wait(self, timeout: float = 30.0) -> bool:
        """Join the thread (after a cancel, when closing); True if it has ended."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def shutdown(self, timeout: float = 30.0) -> bool:
        """Cancel and wait for the thread."""
        self.cancel()
        return self.wait(timeout)
