"""What every engine offers (``Engine``), one run as it sees it (``RunContext``) and the steps
both engines share.

An engine is built from one engine.settings.EngineConfig (engine.engines.make_engine) and keeps
it for its life. Models load once (lazily, on the first ``load``/``run``) and stay loaded
between runs; ``unload`` frees them.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from engine.api import (
    CancelToken,
    CropPreview,
    ProgressCallback,
    ProgressEvent,
    ReconstructionRequest,
    ReconstructionResult,
    no_progress,
)
from engine.gaussians import Gaussians
from engine.settings import DEFAULT_TARGET_RATIO, FramingName

if TYPE_CHECKING:
    from engine.preprocess import Prepared


@dataclass
class RunContext:
    """One run as an engine sees it: what was asked, where its progress goes, the token it
    checks, and the seconds each stage took so far (the result's ``timings``)."""

    request: ReconstructionRequest
    on_progress: ProgressCallback
    cancel: CancelToken
    timings: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        """Add the seconds the block takes to ``timings[stage]``."""
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.timings[stage] = self.timings.get(stage, 0.0) + time.perf_counter() - t0

    def prepare(
        self, framing: FramingName | None = None, target_ratio: float = DEFAULT_TARGET_RATIO
    ) -> Prepared:
        """Preprocess the request's photo with ``framing`` (None: the request's own choice, see
        RunOptions.framing_for), or take it as given (``preprocess`` off); timed as "preprocess".
        target_ratio: object framing's subject size (a fraction of the 512 px input)."""
        from engine.preprocess import prepare_given, preprocess_photo

        request, cancel = self.request, self.cancel
        with self.timed("preprocess"):
            cancel.raise_if_cancelled()
            self.on_progress(ProgressEvent("preprocess", 0, 1, f"preprocessing {request.describe_image()}"))
            image = request.image if isinstance(request.image, np.ndarray) else Path(request.image)
            if request.options.preprocess:
                mode = framing if framing is not None else request.options.framing_for()
                prepared = preprocess_photo(image, framing=mode, target_ratio=target_ratio, cancel=cancel)
            else:
                prepared = prepare_given(image)
            cancel.raise_if_cancelled()  # the matting at its end has no check of its own
            self.on_progress(
                ProgressEvent("preprocess", 1, 1, "preprocessed", preview=CropPreview(prepared.image))
            )
        return prepared

    def result(
        self,
        engine: str,
        prepared: Prepared,
        gaussians: Gaussians,
        views: np.ndarray | None,
        info: dict[str, Any],
    ) -> ReconstructionResult:
        """The run's result: its Gaussians, the prepared input crop and matte, views (V,H,W,3)
        uint8 or None, the seconds per stage so far and ``info``."""
        return ReconstructionResult(
            gaussians=gaussians,
            input_image=prepared.image,
            input_alpha=prepared.alpha,
            views=views,
            engine=engine,
            timings=self.timings,
            info=info,
        )


class Engine(ABC):
    """What the CLI, the window's worker and batch runs need from an engine.

    An engine names itself (``describe``), loads and frees its models, and reconstructs one run
    (``_reconstruct``); ``run``, the entry point, is the same for every engine.
    """

    name: ClassVar[str]

    @abstractmethod
    def describe(self) -> str:
        """Which engine this is, and why it was chosen when that matters (one line)."""

    @abstractmethod
    def load(self, on_progress: ProgressCallback = no_progress) -> None:
        """Load the models now (no-op for those loaded). Raises WeightsError, OutOfMemory."""

    @abstractmethod
    def unload(self) -> None:
        """Free every model (the next run loads them again)."""

    def run(
        self,
        request: ReconstructionRequest,
        on_progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
    ) -> ReconstructionResult:
        """One reconstruction. Raises InputError, WeightsError, OutOfMemory, Cancelled."""
        token = cancel if cancel is not None else CancelToken()  # None: a token nobody cancels
        return self._reconstruct(RunContext(request, on_progress, token))

    @abstractmethod
    def _reconstruct(self, run: RunContext) -> ReconstructionResult:
        """The reconstruction of ``run.request``: progress to ``run.on_progress``, checking
        ``run.cancel``, the seconds per stage in ``run.timings``."""


def prepared_info(prepared: Prepared) -> dict[str, Any]:
    """The facts about the preprocessing a result's ``info`` keeps (face box, score, notes, landmarks)."""
    return {
        "face_box": prepared.face_box,
        "score": prepared.score,
        "notes": list(prepared.notes),
        "landmarks": prepared.landmarks,
    }
