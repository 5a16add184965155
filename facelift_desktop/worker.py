"""The reconstruction job: one long-lived engine worker on its own thread.

``EngineWorker`` (a facelift_desktop.jobs.Job) lives on its own ``QThread`` for the whole session,
so models load once (lazily, on the first run that needs them). The GUI thread asks for a run
through a queued signal and may call ``cancel()`` directly: it only sets the run's
``CancelToken``, which the engine checks between stages and inside the diffusion step callback.
A run ends with exactly one of ``finished`` / ``failed`` / ``cancelled``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from PySide6.QtCore import QThread, Signal, Slot

from engine.api import Cancelled, CancelToken, ProgressEvent, ReconstructionRequest
from engine.engines import Engine, make_engine
from engine.settings import EngineConfig
from facelift_desktop.jobs import WEIGHTS_HINT, Failure, Job

EngineFactory = Callable[[EngineConfig], Engine]
"""Makes the engine for a configuration (engine.engines.make_engine; tests pass fakes)."""

__all__ = ["WEIGHTS_HINT", "EngineFactory", "EngineWorker", "Failure", "WorkerThread", "progress_text"]


def default_engine_factory(config: EngineConfig) -> Engine:
    """The real engines (engine.engines.make_engine; torch loads only when a model does)."""
    return make_engine(config)


class EngineWorker(Job):
    """Runs reconstructions on its thread. Signals carry plain Python objects."""

    what = "reconstruction"
    _run_requested = Signal(object, object)

    def __init__(self, factory: EngineFactory = default_engine_factory) -> None:
        super().__init__()
        self._factory = factory
        self._engines: dict[EngineConfig, Engine] = {}  # loaded engines, one per configuration
        self._run_requested.connect(self._run)

    def request_run(self, config: EngineConfig, request: ReconstructionRequest) -> None:
        """Queue ``request`` for the engine of ``config`` on the worker thread (call from the
        GUI thread). An engine already loaded for ``config`` is reused."""
        self._begin()
        self._run_requested.emit(config, request)

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

        def work() -> object:
            token.raise_if_cancelled()
            engine = self._engine_for(config, token)
            token.raise_if_cancelled()
            return engine.run(request, self.progress.emit, token)

        self._conclude(work, token)

    @Slot()
    def unload_all(self) -> None:
        """Free every loaded model (runs on the worker thread)."""
        for engine in self._engines.values():
            with contextlib.suppress(Exception):  # unloading is best effort when shutting down
                engine.unload()
        self._engines.clear()


class WorkerThread:
    """Owns a QThread and a worker moved onto it; ``shutdown`` cancels, quits and joins."""

    def __init__(self, worker: EngineWorker, name: str) -> None:
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
        if stopped:
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
