"""Heads to animate, made once per session (registered in tests/conftest.py): the instant
engine's astronaut (a reconstruction folder with its input.png), and the FaceLift conformance head (the tiny networks' GS-LRM output)
given the astronaut as its input photo."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

PORTRAIT = Path(__file__).resolve().parent / "fixtures" / "portraits" / "astronaut.jpg"


@dataclass(frozen=True)
class RiggedHead:
    folder: Path
    image: np.ndarray  # the preprocessed input (512,512,3) uint8
    gaussians: object
    rig: object


def _rigged(folder: Path, gaussians, image: np.ndarray) -> RiggedHead:
    from engine.animate.head_fit import fit_head_landmarks
    from engine.animate.rig import bind

    return RiggedHead(folder, image, gaussians, bind(gaussians, fit_head_landmarks(image, gaussians)))


@pytest.fixture(scope="session")
def instant_head(tmp_path_factory) -> RiggedHead:
    """The astronaut through the instant engine, written as a reconstruction folder."""
    from engine.api import ReconstructionRequest
    from engine.engines import InstantEngine
    from engine.io.images import save_png
    from engine.io.ply import save_ply

    result = InstantEngine().run(ReconstructionRequest(PORTRAIT))
    folder = tmp_path_factory.mktemp("astronaut_head")
    save_ply(result.gaussians, folder / "gaussians.ply")
    assert result.input_image is not None
    save_png(result.input_image, folder / "input.png")
    return _rigged(folder, result.gaussians, result.input_image)


@pytest.fixture(scope="session")
def facelift_head(tmp_path_factory, instant_head: RiggedHead) -> RiggedHead:
    """The conformance GS-LRM output (FaceLift's code, tiny random networks) with the
    astronaut's input as its photo: a FaceLift-layout head whose Gaussians barely cover the
    face, so the rig's depths fall back to the face mesh's own."""
    import shutil

    from engine.conformance import reference_dir
    from engine.io.images import save_png
    from engine.io.ply import load_ply

    folder = tmp_path_factory.mktemp("facelift_head")
    shutil.copy(reference_dir() / "gslrm" / "expected_filtered.ply", folder / "gaussians.ply")
    save_png(instant_head.image, folder / "input.png")
    return _rigged(folder, load_ply(folder / "gaussians.ply"), instant_head.image)


@pytest.fixture(scope="session")
def rigged_ply(instant_head: RiggedHead, tmp_path_factory) -> Path:
    """The astronaut's instant head as a PLY with its rig file beside it (nothing to fit)."""
    from engine.animate.head_source import rig_path, save_rig
    from engine.io.ply import save_ply

    path = tmp_path_factory.mktemp("rigged") / "astronaut.ply"
    save_ply(instant_head.gaussians, path)  # type: ignore[arg-type]
    save_rig(rig_path(path), instant_head.rig.landmarks)  # type: ignore[attr-defined]
    return path
