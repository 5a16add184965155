"""Test fixtures used across the suite. Reference data lives in tests/fixtures/ (see its README)."""

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
    """tests/fixtures: the conformance set and the released networks' state-dict key lists."""
    return FIXTURES


@pytest.fixture(scope="session")
def conformance_dir(fixtures_dir: Path) -> Path:
    """The FaceLift conformance fixtures (also a tiny weights folder in the release layout)."""
    return fixtures_dir / "conformance"


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
