"""Fixtures for the reliability matrix; the shared assertions are in reliability_harness.py."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from engine.api import ReconstructionRequest, ReconstructionResult
from engine.engines import FaceLiftEngine
from engine.io.images import save_png
from engine.outputs import render_input_views

if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No weights anywhere and settings in tmp: the machine as a fresh user has it."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.delenv("FACELIFT_WEIGHTS", raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    return home


@pytest.fixture
def gui_window(qtbot, tmp_path: Path, isolated_home: Path) -> Iterator[Callable[..., object]]:  # type: ignore[no-untyped-def]
    """Factory of real MainWindows (real engine factory unless one is given, no GL viewport
    unless use_gl=True).

    Failure dialogs are not run modally: ``window.last_failure_dialog`` holds the last one.
    """
    from window_factory import window_factory

    with window_factory(qtbot, tmp_path / "settings.ini") as new_window:

        def make(**kwargs: object) -> object:
            kwargs.setdefault("use_gl", False)  # use_gl=True needs a display (mark the test gl)
            return new_window(**kwargs)

        yield make


# ---- one real instant reconstruction for the outputs rows (test_outputs*.py) ------------------


@pytest.fixture(scope="session")
def instant_result() -> ReconstructionResult:
    """The instant engine on skimage's astronaut (real engine, ~210k Gaussians)."""
    from skimage import data

    from engine.engines import InstantEngine

    return InstantEngine().run(ReconstructionRequest(data.astronaut()))


@pytest.fixture(scope="session")
def small_result(instant_result: ReconstructionResult) -> ReconstructionResult:
    """Every 40th Gaussian of the real result, with six real renders as its views (fast to write)."""
    g = instant_result.gaussians
    keep = np.zeros(len(g), bool)
    keep[::40] = True
    small = g.subset(keep)
    return ReconstructionResult(
        gaussians=small,
        input_image=instant_result.input_image,
        views=render_input_views(small, 64),
        engine="instant",
        info={"unfiltered_gaussians": small},
    )


@pytest.fixture(scope="session")
def astronaut_png(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from skimage import data

    path = tmp_path_factory.mktemp("photos") / "astronaut.png"
    save_png(data.astronaut(), path)
    return path


# ---- one uninterrupted FaceLift run for the cancel rows (test_cancel*.py) -------------------------


@pytest.fixture(scope="session")
def facelift_reference(conformance_dir: Path) -> ReconstructionResult:
    """An uninterrupted FaceLift run on a fresh engine: what every run after a cancel must give."""
    from cancel_cases import facelift_request

    from engine.engines import FaceLiftEngine

    return FaceLiftEngine(conformance_dir, device="cpu").run(facelift_request())


@pytest.fixture(scope="module")
def facelift_engine(conformance_dir: Path) -> FaceLiftEngine:
    """One engine that every FaceLift cancel case of a module cancels and then runs again."""
    from engine.engines import FaceLiftEngine

    return FaceLiftEngine(conformance_dir, device="cpu")
