"""Data objects that cross the engine boundary: requests, results, progress, cancel, errors.

Everything here is plain Python / numpy so the GUI, the CLI and tests can use it without
importing torch. The errors are defined in engine.errors (which modules inside engine/ import,
so that nothing imports in a circle) and re-exported here with RunOptions, so the window and
tests find the whole boundary in this one module.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engine.errors import (  # noqa: F401  (re-exported: the engine's errors cross the API too)
    Cancelled,
    FaceLiftError,
    InputError,
    NoFaceFound,
    NoWeights,
    OutOfMemory,
    OutputError,
    WeightsError,
)
from engine.gaussians import Gaussians
from engine.settings import RunOptions

# --------------------------------------------------------------------------------------
# Progress and cancel
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CropPreview:
    """The photo as the engine will use it, sent when preprocessing ends.

    image: (512,512,3) uint8 RGB on white (the crop FaceLift frames, or the padded photo).
    """

    image: np.ndarray


@dataclass(frozen=True)
class GaussiansPreview:
    """A quick head to show while the real one is computed (the FaceLift engine sends the
    instant engine's head before its diffusion starts)."""

    gaussians: Gaussians


Preview = CropPreview | GaussiansPreview
"""What a ProgressEvent may carry for the UI to show before the result arrives."""


@dataclass(frozen=True)
class ProgressEvent:
    """One progress report.

    stage: short machine name ("preprocess", "diffusion", "gslrm", "instant", "render", ...).
    step / total: position inside the stage (total 0 = indeterminate).
    message: human-readable text for a status line.
    preview: something to show already (:data:`Preview`), or ``None``.
    """

    stage: str
    step: int = 0
    total: int = 0
    message: str = ""
    preview: Preview | None = None

    @property
    def fraction(self) -> float:
        """Progress inside the stage in [0, 1] (0 when indeterminate)."""
        return float(self.step) / self.total if self.total > 0 else 0.0


ProgressCallback = Callable[[ProgressEvent], None]


def no_progress(_event: ProgressEvent) -> None:
    """A progress callback that ignores every event."""


class CancelToken:
    """A cancel flag that any thread may set; the engine checks it between steps."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def reset(self) -> None:
        self._event.clear()

    def raise_if_cancelled(self) -> None:
        """Raise :class:`Cancelled` if the flag is set."""
        if self._event.is_set():
            raise Cancelled("cancelled by the user")


# --------------------------------------------------------------------------------------
# Requests and results
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReconstructionRequest:
    """One run's input: the photo and what the run asks for (engine.settings.RunOptions).

    image: a path, or an RGB(A) uint8 array (H,W,3|4). How the engine is configured (which
    engine, weights, device, memory preset) is not part of a request: that is the engine's
    engine.settings.EngineConfig.
    """

    image: Path | str | np.ndarray
    options: RunOptions = field(default_factory=RunOptions)

    def describe_image(self) -> str:
        """A short name of the input for messages."""
        if isinstance(self.image, np.ndarray):
            return f"<image {self.image.shape[1]}x{self.image.shape[0]}>"
        return str(self.image)


@dataclass
class ReconstructionResult:
    """The outcome of one reconstruction.

    gaussians: the filtered Gaussians in the FaceLift world frame (+Z up, face toward -Y).
    input_image: the preprocessed 512x512 RGB uint8 crop (H,W,3) the engine used, or ``None``
        when the Gaussians were opened from a file (no photo).
    input_alpha: its matte, float32 (H,W) in [0,1], or ``None``.
    views: the six generated views (6,H,W,3) uint8 in slot order, or ``None`` (instant).
    engine: which engine produced it; timings: seconds per stage.
    info: free-form facts for the UI (face box, detection score, device, ...).
    mesh: the head's own triangle mesh (a trimesh.Trimesh in the same frame), when the engine
        fitted one or the folder it was opened from holds one (engine.io.formats.resolve_head);
        mesh exports write it as is and fuse one from the Gaussians otherwise.
    """

    gaussians: Gaussians
    input_image: np.ndarray | None
    input_alpha: np.ndarray | None = None
    views: np.ndarray | None = None
    engine: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    mesh: Any = None
