"""Test fixtures used across the suite. The conformance set ships with the app in
engine/conformance/reference (``facelift doctor`` runs it); tests use that one copy. The released
networks' state-dict key lists live in tests/fixtures/."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# Shared test helpers at the top of tests/ (hostile_ply, window_factory) import by name:
# pytest runs with --import-mode=importlib, which puts no test folder on sys.path.
sys.path.insert(0, str(Path(__file__).resolve().parent))

FIXTURES = Path(__file__).resolve().parent / "fixtures"


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
