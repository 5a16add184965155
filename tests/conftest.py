"""Test fixtures used across the suite. The conformance set ships with the app in
engine/conformance/reference (``facelift doctor`` runs it); tests use that one copy. The released
networks' state-dict key lists live in tests/fixtures/."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

# Shared test helpers at the top of tests/ (hostile_ply, window_factory) import by name:
# pytest runs with --import-mode=importlib, which puts no test folder on sys.path.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from animate_heads import facelift_head, instant_head, rigged_ply  # noqa: F401
from gslrm_fixtures import (  # noqa: F401
    assert_matches_expected_ply,
    gslrm_expected,
    gslrm_expected_gaussians,
    gslrm_inputs,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures"
# Folders whose tests run the tiny conformance networks: one torch thread each. The tiny networks
# gain nothing from a second thread, and on a busy 2-core machine OpenMP threads contend badly (a
# tiny UNet step measured 0.07 s with one thread, 1.3 s with two under load). The conformance
# tolerances hold for any thread count (fixtures README §4).
ONE_THREAD_FOLDERS = {"cli", "doctor", "gslrm", "mvdiffusion"}


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """tests/fixtures: the released networks' state-dict key lists."""
    return FIXTURES


@pytest.fixture(scope="session")
def conformance_dir() -> Path:
    """The FaceLift conformance fixtures (also a tiny weights folder in the release layout): the
    copy the app ships in engine/conformance/reference."""
    from engine.conformance import reference_dir

    return reference_dir()


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread_for_tiny_networks(request: pytest.FixtureRequest) -> Iterator[None]:
    if request.path.parent.name not in ONE_THREAD_FOLDERS:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def run_dir(conformance_dir: Path) -> Path:
    """The conformance diffusion run: input.png and the reference's view_0..5.png."""
    return conformance_dir / "mvdiffusion" / "pipeline_run"


@pytest.fixture(scope="session")
def expected_views(run_dir: Path) -> np.ndarray:
    """(6,64,64,3) uint8: the views FaceLift's code generated for the conformance run."""
    from PIL import Image

    return np.stack([np.asarray(Image.open(run_dir / f"view_{i}.png").convert("RGB")) for i in range(6)])


@pytest.fixture
def fixtures_copy(tmp_path: Path, conformance_dir: Path) -> Path:
    """A writable copy of the shipped conformance set, to perturb (doctor tests)."""
    import shutil

    target = tmp_path / "conformance"
    shutil.copytree(conformance_dir, target)
    return target


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``gl`` tests need an X display with OpenGL (VisPy cannot use Qt's offscreen platform):
    skip them when there is none; ./test.sh runs the suite under xvfb-run."""
    import os

    if os.environ.get("DISPLAY"):
        return
    skip = pytest.mark.skip(reason="needs an X display with OpenGL: run under xvfb-run (./test.sh does)")
    for item in items:
        if "gl" in item.keywords:
            item.add_marker(skip)
