"""Fixtures for the multi-view diffusion tests: the tiny conformance pipeline, its input photo,
and a progress callback that cancels at a given step."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.api import CancelToken, ProgressEvent
from engine.mvdiffusion.pipeline import MultiViewDiffusion


@pytest.fixture(scope="module")
def mvd(conformance_dir: Path) -> MultiViewDiffusion:
    """The tiny conformance pipeline on the CPU, one per test module."""
    return MultiViewDiffusion.from_weights(conformance_dir, device="cpu")


@pytest.fixture(scope="module")
def input_image(run_dir: Path) -> np.ndarray:
    """(H,W,3) uint8: the conformance run's input photo."""
    return np.asarray(Image.open(run_dir / "input.png").convert("RGB"))


class CancelAtStep:
    """An ``on_progress`` callback that records each event's step and cancels ``token`` when
    step ``at`` is reported (the user pressing Cancel right then)."""

    def __init__(self, at: int) -> None:
        self.at = at
        self.token = CancelToken()
        self.steps: list[int] = []

    def __call__(self, event: ProgressEvent) -> None:
        self.steps.append(event.step)
        if event.step == self.at:
            self.token.cancel()


@pytest.fixture
def cancel_at_step() -> Callable[[int], CancelAtStep]:
    """Factory: cancel_at_step(k) -> a CancelAtStep (pass it as on_progress, its .token as cancel)."""
    return CancelAtStep
