"""Shared test fixtures. Conformance data comes from ../shared (relative to the repo)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
CONFORMANCE = SHARED / "fixtures" / "conformance"


@pytest.fixture(scope="session")
def conformance_dir() -> Path:
    """The shared conformance fixtures folder (also usable as a tiny weights folder)."""
    if not CONFORMANCE.is_dir():
        pytest.fail(f"conformance fixtures not found at {CONFORMANCE}")
    return CONFORMANCE
