"""Data objects that cross the engine boundary: requests, results, progress, cancel, errors.

Everything here is plain Python / numpy so the GUI, the CLI and tests can use it without
importing torch.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

if TYPE_CHECKING:
    from engine.gaussians import Gaussians

EngineName = Literal["facelift", "instant"]
DeviceName = Literal["auto", "cpu", "cuda"]


# --------------------------------------------------------------------------------------
# Errors. Each carries a one-line, user-facing message (str(err)).
# --------------------------------------------------------------------------------------


class FaceLiftError(Exception):
    """Base of every error the engine raises on purpose.

    ``str(err)`` is a single line meant for a user: it names the file (when there is one)
    and the problem. Details for a log go in ``details``.
    """

    exit_code: int = 2

    def __init__(self, message: str, *, details: str = "") -> None:
        one_line = " ".join(str(message).split())
        super().__init__(one_line)
        self.message = one_line
        self.details = details


class InputError(FaceLiftError):
    """The user's input (photo, PLY, view images, arguments) is unusable."""


class NoFaceFound(InputError):
    """Auto-crop found no face in the photo; running without auto-crop may still work."""


class WeightsError(FaceLiftError):
    """Model weights are missing, incomplete, corrupt or of the wrong shape."""


class Cancelled(FaceLiftError):
    """The run was cancelled through its CancelToken. Not a failure."""

    exit_code = 130


class OutOfMemory(FaceLiftError):
    """The device ran out of memory; the message suggests a lower memory preset.

    ``suggested_preset``: the lower memory preset to try (a name of engine.pipeline's
    MEMORY_PRESETS), or None when there is none; the CLI and the GUI each say how to pick it.
    """

    def __init__(self, message: str, *, details: str = "", suggested_preset: str | None = None) -> None:
        super().__init__(message, details=details)
        self.suggested_preset = suggested_preset


class OutputError(FaceLiftError):
    """An output could not be written (permissions, disk full, existing file)."""


# --------------------------------------------------------------------------------------
# Progress and cancel
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgressEvent:
    """One progress report.

    stage: short machine name ("preprocess", "diffusion", "gslrm", "instant", "render", ...).
    step / total: position inside the stage (total 0 = indeterminate).
    message: human-readable text for a status line.
    preview: optional payload for the UI (e.g. an instant-engine Gaussians preview, or a
        uint8 (H,W,3) image), ``None`` otherwise.
    """

    stage: str
    step: int = 0
    total: int = 0
    message: str = ""
    preview: Any = None

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


@dataclass
class ReconstructionRequest:
    """What to reconstruct and how. Defaults are the reference's (inference.py).

    image: a path, or an RGB(A) uint8 array (H,W,3|4).
    auto_crop: detect the face and apply FaceLift's framing; ``False`` resizes the whole
        photo (keeping the aspect ratio, padded with white).
    preprocess: ``False`` takes the image as an already prepared white-background crop.
    """

    image: Path | str | np.ndarray
    engine: EngineName = "facelift"
    seed: int = 4
    guidance_scale: float = 3.0
    num_steps: int = 50
    auto_crop: bool = True
    preprocess: bool = True
    device: DeviceName = "auto"
    memory_preset: str = "auto"
    weights_dir: Path | None = None

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
    """

    gaussians: Gaussians
    input_image: np.ndarray | None
    input_alpha: np.ndarray | None = None
    views: np.ndarray | None = None
    engine: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
