"""A fake engine with the pipeline's interface: scripted progress, preview, cancel, failure."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np

from engine.api import (
    CancelToken,
    CropPreview,
    FaceLiftError,
    GaussiansPreview,
    OutOfMemory,
    ProgressCallback,
    ProgressEvent,
    ReconstructionRequest,
    ReconstructionResult,
)
from engine.settings import EngineConfig
from viewer.synthetic import synthetic_head


@dataclass
class FakeEngine:
    """Runs ``steps`` diffusion-like steps of ``step_seconds``; checks cancel every step.

    fail_with: raise this at step ``fail_at``; gate: if set, step 1 waits for it (lets a test
    cancel at a known point). Records loads and runs.
    """

    name: str = "instant"
    steps: int = 5
    step_seconds: float = 0.01
    count: int = 2000
    fail_with: BaseException | None = None
    fail_at: int = 2
    gate: threading.Event | None = None
    loads: int = 0
    runs: list[ReconstructionRequest] = field(default_factory=list)
    unloaded: bool = False

    def load(self, on_progress: ProgressCallback) -> None:
        self.loads += 1
        on_progress(ProgressEvent("load", 1, 1, f"{self.name} ready"))

    def unload(self) -> None:
        self.unloaded = True

    def run(
        self, request: ReconstructionRequest, on_progress: ProgressCallback, cancel: CancelToken
    ) -> ReconstructionResult:
        self.runs.append(request)
        crop = np.full((64, 64, 3), 200, np.uint8)
        on_progress(ProgressEvent("preprocess", 1, 1, "cropped", CropPreview(crop)))
        if self.name == "facelift":
            preview = GaussiansPreview(synthetic_head(500, seed=1))
            on_progress(ProgressEvent("preview", 1, 1, "instant preview", preview))
        for k in range(1, self.steps + 1):
            if self.gate is not None and k == 2:
                self.gate.wait(10)
            cancel.raise_if_cancelled()
            if self.fail_with is not None and k == self.fail_at:
                raise self.fail_with
            time.sleep(self.step_seconds)
            on_progress(ProgressEvent("diffusion", k, self.steps, f"step {k}"))
        views = np.zeros((6, 32, 32, 3), np.uint8) if self.name == "facelift" else None
        return ReconstructionResult(
            gaussians=synthetic_head(self.count),
            input_image=crop,
            views=views,
            engine=self.name,
            info={"device": "cpu (fake)"},
        )


class FakeFactory:
    """Engine factory handing out one FakeEngine per engine name (configure before a run)."""

    def __init__(self, **kwargs: object) -> None:
        self.engines: dict[str, FakeEngine] = {}
        self.kwargs = kwargs
        self.made = 0

    def engine(self, name: str) -> FakeEngine:
        if name not in self.engines:
            self.engines[name] = FakeEngine(name=name, **self.kwargs)  # type: ignore[arg-type]
        return self.engines[name]

    def __call__(self, config: EngineConfig) -> FakeEngine:
        self.made += 1
        assert config.engine is not None  # the window always names the engine
        return self.engine(config.engine)


__all__ = ["FaceLiftError", "FakeEngine", "FakeFactory", "OutOfMemory"]
