"""What ``facelift animate HEAD`` accepts: a reconstruction folder, a Gaussians file with its rig
(``NAME.rig.npz`` beside ``NAME.ply``, or the folder's input.png to fit one from), or a photo
(reconstructed first with the instant engine). Returns the Gaussians and the fitted landmarks."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.animate.driver import IMAGE_SUFFIXES
from engine.animate.landmarks import COUNT
from engine.api import CancelToken, ProgressCallback, ProgressEvent, no_progress
from engine.errors import InputError
from engine.gaussians import Gaussians

RIG_SUFFIX = ".rig.npz"
INPUT_NAME = "input.png"


@dataclass(frozen=True)
class Head:
    """A head to animate: Gaussians (FaceLift world) and its landmarks (478,3) world."""

    gaussians: Gaussians
    landmarks: np.ndarray
    name: str


def rig_path(gaussians_file: str | os.PathLike[str]) -> Path:
    """``head.ply`` -> ``head.rig.npz`` (beside it)."""
    p = Path(gaussians_file)
    return p.with_name(p.name.split(".")[0] + RIG_SUFFIX)


def save_rig(path: str | os.PathLike[str], landmarks: np.ndarray) -> None:
    """Write the fitted landmarks (478,3) as a rig file (npz, no pickles), atomically."""
    from engine.io.atomic import atomic_write

    lm = np.asarray(landmarks, dtype=np.float64)
    if lm.shape != (COUNT, 3):
        raise InputError(f"{path}: a rig holds (478,3) landmarks, got {lm.shape}")
    with atomic_write(Path(path), suffix=".npz") as tmp, open(tmp, "wb") as fh:
        np.savez(fh, landmarks=lm)


def load_rig(path: Path) -> np.ndarray:
    """(478,3) landmarks from a rig file; one InputError line when it is not one."""
    try:
        with np.load(path, allow_pickle=False) as data:
            lm = np.asarray(data["landmarks"], dtype=np.float64)
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(f"{path}: not a rig file ({' '.join(str(exc).split())[:120]})") from None
    if lm.shape != (COUNT, 3) or not np.isfinite(lm).all():
        raise InputError(f"{path}: not a rig file (landmarks {lm.shape}, expected ({COUNT}, 3) finite)")
    return lm


def load_head(
    head: str | os.PathLike[str],
    on_progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> Head:
    """The head named by ``head`` (see the module docstring), rigged."""
    from engine.io.formats import resolve_head
    from engine.io.gaussians_file import load_gaussians

    p = Path(head)
    if not p.exists():
        raise InputError(f"{p}: not found")
    if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES:
        return _from_photo(p, on_progress, cancel)
    gfile, _mesh = resolve_head(p)
    gaussians = load_gaussians(gfile)
    return Head(gaussians, stored_landmarks(p, gfile, gaussians, on_progress), str(p))


def stored_landmarks(
    head: Path, gfile: Path, gaussians: Gaussians, on_progress: ProgressCallback = no_progress
) -> np.ndarray:
    """(478,3) landmarks of the head in ``gfile`` (named ``head`` in messages): its rig file,
    else fitted from the input.png beside it; one InputError line when it has neither."""
    from engine.animate.head_fit import fit_head_landmarks
    from engine.io.images import load_photo

    rig = rig_path(gfile)
    if rig.is_file():
        return load_rig(rig)
    photo = gfile.parent / INPUT_NAME
    if not photo.is_file():
        raise InputError(
            f"{head}: the head has no rig ({rig.name}) and no {INPUT_NAME} beside it to fit one; "
            "animate its reconstruction folder or the photo instead"
        )
    on_progress(ProgressEvent("rig", 0, 1, "fitting the face mesh to the head"))
    return fit_head_landmarks(load_photo(photo), gaussians, str(photo))


def _from_photo(p: Path, on_progress: ProgressCallback, cancel: CancelToken | None) -> Head:
    from engine.animate.head_fit import fit_head_landmarks
    from engine.api import ReconstructionRequest
    from engine.engines import InstantEngine

    result = InstantEngine().run(ReconstructionRequest(p), on_progress, cancel)
    assert result.input_image is not None
    on_progress(ProgressEvent("rig", 0, 1, "fitting the face mesh to the head"))
    return Head(result.gaussians, fit_head_landmarks(result.input_image, result.gaussians, str(p)), str(p))
