"""Background work for the window: one long-lived engine worker, one task worker.

``EngineWorker`` lives on its own ``QThread`` for the whole session, so models load once
(lazily, on the first run that needs them). The GUI thread asks for a run through a queued
signal and may call ``cancel()`` directly: it only sets a ``CancelToken`` (a
threading.Event), which the engine checks between stages and inside the diffusion step
callback. A run ends with exactly one of ``finished`` / ``failed`` / ``cancelled``: a
cancelled run is not a failure.

``TaskWorker`` does the same for one-off jobs with their own progress and cancel
(turntable export, weights download): ``fn(on_progress, cancel) -> value``.
"""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from engine.api import (
    Cancelled,
    CancelToken,
    FaceLiftError,
    NoWeights,
    OutOfMemory,
    ProgressCallback,
    ProgressEvent,
    ReconstructionRequest,
)
from engine.engines import Engine, make_engine
from engine.settings import EngineConfig

EngineFactory = Callable[[EngineConfig], Engine]
"""Makes the engine for a configuration (engine.engines.make_engine; tests pass fakes)."""

WEIGHTS_HINT = "Tools → FaceLift weights… to download or choose them"
"""How to get the FaceLift weights, in the window's words (the engine's NoWeights says where it looked)."""


@dataclass(frozen=True)
class Failure:
    """A failed run as the failure dialog shows it.

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


def default_engine_factory(config: EngineConfig) -> Engine:
    """The real engines (engine.engines.make_engine; torch loads only when a model does)."""
    return make_engine(config)


class EngineWorker(QObject):
    """Runs reconstructions on its thread. Signals carry plain Python objects."""

    progress = Signal(object)  # ProgressEvent
    finished = Signal(object)  # ReconstructionResult
    failed = Signal(object)  # Failure
    cancelled = Signal()
    started = Signal(object)  # ReconstructionRequest
    _run_requested = Signal(object, object)

    def __init__(self, factory: EngineFactory = default_engine_factory) -> None:
        super().__init__()
        self._factory = factory
        self._engines: dict[EngineConfig, Engine] = {}  # loaded engines, one per configuration
        self._token = CancelToken()
        self._running = False
        self._run_requested.connect(self._run)

    @property
    def running(self) -> bool:
        return self._running

    def request_run(self, config: EngineConfig, request: ReconstructionRequest) -> None:
        """Queue ``request`` for the engine of ``config`` on the worker thread (call from the
        GUI thread). An engine already loaded for ``config`` is reused."""
        self._token = CancelToken()
        self._running = True
        self._run_requested.emit(config, request)

    def cancel(self) -> None:
        """Ask the current run to stop; safe from any thread. Takes effect at the next check."""
        self._token.cancel()

    def _engine_for(self, config: EngineConfig, token: CancelToken) -> Engine:
        key = config
        if key not in self._engines:
            # another configuration of the same engine: free the old models first
            for old_key in [k for k in self._engines if k.engine == config.engine]:
                self._engines.pop(old_key).unload()
            engine = self._factory(config)

            def on_load(event: ProgressEvent) -> None:
                # FaceLift loads two networks (tens of seconds each on a CPU): a cancel made
                # while the first loads stops before the second
                self.progress.emit(event)
                token.raise_if_cancelled()

            try:
                engine.load(on_load)
            except Cancelled:
                self._engines[key] = engine  # keep what did load; the next run loads the rest
                raise
            self._engines[key] = engine
        return self._engines[key]

    @Slot(object, object)
    def _run(self, config: EngineConfig, request: ReconstructionRequest) -> None:
        token = self._token
        self.started.emit(request)
        try:
            token.raise_if_cancelled()
            engine = self._engine_for(config, token)
            token.raise_if_cancelled()
            result = engine.run(request, self.progress.emit, token)
            token.raise_if_cancelled()
        except Cancelled:
            self._running = False
            self.cancelled.emit()
        except Exception as exc:  # every failure becomes a dialog, never a crash
            self._running = False
            self.failed.emit(Failure.from_exception(exc))
        else:
            self._running = False
            self.finished.emit(result)

    @Slot()
    def unload_all(self) -> None:
        """Free every loaded model (runs on the worker thread)."""
        for engine in self._engines.values():
            with contextlib.suppress(Exception):  # unloading is best effort when shutting down
                engine.unload()
        self._engines.clear()


class TaskWorker(QObject):
    """Runs ``fn(on_progress, cancel)`` jobs one at a time on its thread."""

    progress = Signal(object)  # ProgressEvent
    finished = Signal(object)  # fn's return value
    failed = Signal(object)  # Failure
    cancelled = Signal()
    _run_requested = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self._token = CancelToken()
        self._running = False
        self._run_requested.connect(self._run)

    @property
    def running(self) -> bool:
        return self._running

    def request_run(self, fn: Callable[[ProgressCallback, CancelToken], Any]) -> None:
        self._token = CancelToken()
        self._running = True
        self._run_requested.emit(fn)

    def cancel(self) -> None:
        self._token.cancel()

    @Slot(object)
    def _run(self, fn: Callable[[ProgressCallback, CancelToken], Any]) -> None:
        token = self._token
        try:
            value = fn(self.progress.emit, token)
            token.raise_if_cancelled()
        except Cancelled:
            self._running = False
            self.cancelled.emit()
        except Exception as exc:
            self._running = False
            self.failed.emit(Failure.from_exception(exc))
        else:
            self._running = False
            self.finished.emit(value)


class WorkerThread:
    """Owns a QThread and a worker moved onto it; ``shutdown`` cancels, quits and joins."""

    def __init__(self, worker: EngineWorker | TaskWorker, name: str) -> None:
        self.worker = worker
        self.thread = QThread()
        self.thread.setObjectName(name)
        worker.moveToThread(self.thread)
        self.thread.start()

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Cancel any run, stop the thread and wait for it. True if it stopped in time.

        Models are unloaded afterwards, from the calling thread: the worker thread has ended,
        so nothing else touches them.
        """
        self.worker.cancel()
        self.thread.quit()
        stopped = bool(self.thread.wait(timeout_ms))
        if stopped and isinstance(self.worker, EngineWorker):
            self.worker.unload_all()
        return stopped


def progress_text(event: ProgressEvent) -> str:
    """``stage — message (k/N)`` for a status line."""
    text = event.stage
    if event.message:
        text += f" — {event.message}"
    if event.total > 0:
        text += f" ({event.step}/{event.total})"
    return text
