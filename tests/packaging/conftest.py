"""Fixtures of the install tests (test_install_deb.py, test_install_cuda_deb.py). A module that
uses ``deb`` or ``installed`` names its package with a module-scoped ``variant`` fixture
(debs.CPU or debs.CUDA); the shared helpers are in debs.py."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# pytest runs with --import-mode=importlib, which puts no test folder on sys.path: debs.py and
# system_libs.py are imported by name.
sys.path.insert(0, str(Path(__file__).resolve().parent))

import debs


@pytest.fixture(scope="module")
def deb(variant: debs.Variant) -> Path:
    """The freshly built .deb of the module's package."""
    return debs.build(variant)


@pytest.fixture(scope="module")
def installed(variant: debs.Variant, deb: Path) -> Iterator[list[Path]]:
    """Install the .deb; yields what ``dpkg -L`` lists. Removed again after the module."""
    yield from debs.installation(variant, deb)


@pytest.fixture
def user_home(tmp_path: Path) -> Path:
    """An empty home folder for a fresh user (debs.user_env)."""
    home = tmp_path / "home"
    home.mkdir()
    return home
