"""Shared test fixtures. Conformance data comes from ../shared (relative to the repo)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# Shared test helpers at the top of tests/ (hostile_ply, window_factory) import by name:
# pytest runs with --import-mode=importlib, which puts no test folder on sys.path.
sys.path.insert(0, str(Path(__file__).resolve().parent))

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
CONFORMANCE = SHARED / "fixtures" / "conformance"


@pytest.fixture(scope="session")
def conformance_dir() -> Path:
    """The shared conformance fixtures folder (also usable as a tiny weights folder)."""
    if not CONFORMANCE.is_dir():
        pytest.fail(f"conformance fixtures not found at {CONFORMANCE}")
    return CONFORMANCE


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
