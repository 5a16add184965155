"""One photo of a batch, and the worker that reconstructs photo after photo with one engine.

The serial loop and every Ray actor run the same :class:`PhotoWorker`: it builds its engine
once (engine.engines.make_engine), counts how often models really load, and turns each
:class:`Job` into an :class:`Outcome` -- done, or failed with the one line the CLI prints. Each
photo is seeded on its own (RunOptions.seed), so where and in which order photos run does not
change their results.
"""

from __future__ import annotations

import os
import socket
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from engine.api import CancelToken, ProgressCallback, ProgressEvent, ReconstructionRequest, no_progress
from engine.errors import Cancelled, FaceLiftError, WeightsError
from engine.settings import EngineConfig, RunOptions

if TYPE_CHECKING:
    from engine.engines import Engine
    from engine.outputs import OutputSpec

Status = Literal["done", "failed", "skipped", "not run"]


@dataclass(frozen=True)
class PhotoSettings:
    """What every photo of a batch is asked for besides its engine.

    options: seed, guidance, steps, crop mode. outputs: what each output folder holds
    (engine.outputs.write_outputs). engine: the engine asked for ("facelift", "instant" or "auto").
    """

    options: RunOptions
    outputs: OutputSpec
    engine: str = "auto"

    def signature(self) -> dict[str, Any]:
        """What a completion marker records: outputs made with another signature are not the
        outputs this command asks for (engine.batch.complete)."""
        return {
            "engine": self.engine,
            **asdict(self.options),
            "frames": self.outputs.turntable_frames,
            "fps": self.outputs.fps,
            "size": self.outputs.render_size,
            "formats": sorted(set(self.outputs.formats)),
            **({"mesh": True} if self.outputs.mesh else {}),
        }


@dataclass(frozen=True)
class Job:
    """One photo: its position in the batch, its file and its output folder."""

    index: int
    photo: Path
    out_dir: Path
    overwrite: bool = False


@dataclass
class Outcome:
    """What became of one photo. error: the one line the CLI prints (without "facelift: error: ")."""

    job: Job
    status: Status
    seconds: float = 0.0
    worker: str = ""
    attempts: int = 0
    error: str = ""
    loads: int = field(default=0, repr=False)
    """The worker's model loads so far (for the summary's loads-per-worker column)."""
    threads: int = field(default=0, repr=False)
    """The worker's torch CPU threads (0: not known)."""


def worker_name(label: str) -> str:
    """``label@host:pid``: names a worker in the summary and the report."""
    return f"{label}@{socket.gethostname()}:{os.getpid()}"


def name_file(path: Path, message: str) -> str:
    """The message, prefixed with the input's path unless it already names it."""
    return message if str(path) in message or path.name in message else f"{path}: {message}"


class PhotoWorker:
    """Reconstructs photos one after another with one engine, loaded once.

    config: the engine's EngineConfig; settings: the batch's PhotoSettings; label: the worker's
    name in reports ("local", "worker-1", ...); debug: print tracebacks of unexpected failures.
    threads: torch's CPU threads for every photo (None: torch's default, one per core). On the
    CPU the FaceLift engine's results depend on it (torch splits reductions by thread), so runs
    that must match byte for byte use the same number; the instant engine's do not.
    ``loads`` counts the models that really loaded (the engines report a "load" stage event with
    step 0 each time they start loading a model).
    """

    def __init__(
        self,
        config: EngineConfig,
        settings: PhotoSettings,
        label: str = "local",
        debug: bool = False,
        threads: int | None = None,
    ):
        self.config = config
        self.settings = settings
        self.name = worker_name(label)
        self.debug = debug
        self.threads = threads
        self.loads = 0
        self._engine: Engine | None = None

    def engine(self, on_progress: ProgressCallback = no_progress) -> Engine:
        """The engine, built and loaded on first use. Raises WeightsError, OutOfMemory."""
        if self._engine is None:
            import torch

            from engine.engines import make_engine

            if self.threads is not None:
                torch.set_num_threads(self.threads)
            self.threads = torch.get_num_threads()
            self._engine = make_engine(self.config)
        self._engine.load(self._counting(on_progress))
        return self._engine

    def _counting(self, on_progress: ProgressCallback) -> ProgressCallback:
        def forward(ev: ProgressEvent) -> None:
            if ev.stage == "load" and ev.step == 0:
                self.loads += 1
            on_progress(ev)

        return forward

    def run(
        self,
        job: Job,
        on_progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
        marker: Callable[[Path], Path] | None = None,
    ) -> Outcome:
        """Reconstruct ``job`` and write its output folder (atomic as a whole).

        A bad photo or an engine error is a failed Outcome with one line; so is a bug (its
        traceback behind ``debug``). WeightsError, Cancelled and KeyboardInterrupt propagate:
        they stop the batch. ``marker`` defaults to the completion marker of engine.batch.complete.
        """
        from engine.batch.complete import write_marker
        from engine.commands import error_text
        from engine.outputs import write_outputs

        s = self.settings
        if marker is None:

            def marker(staging: Path) -> Path:
                return write_marker(staging, s.signature(), job.photo)

        start = time.perf_counter()
        status: Status = "done"
        error = ""
        try:
            counted = self._counting(on_progress)
            result = self.engine(on_progress).run(
                ReconstructionRequest(job.photo, s.options), counted, cancel
            )
            write_outputs(
                result,
                job.out_dir,
                s.outputs,
                overwrite=job.overwrite,
                on_progress=on_progress,
                cancel=cancel,
                marker=marker,
            )
        except (WeightsError, Cancelled):
            raise
        except FaceLiftError as exc:
            status, error = "failed", name_file(job.photo, error_text(exc))
        except Exception as exc:  # a bug should not lose the rest of the batch
            if self.debug:
                traceback.print_exc()
            detail = " ".join(f"{type(exc).__name__}: {exc}".split())
            status, error = "failed", f"{job.photo}: unexpected failure ({detail})"
        seconds = time.perf_counter() - start
        return Outcome(job, status, seconds, self.name, 1, error, self.loads, self.threads or 0)
