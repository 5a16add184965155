"""Doctor tests: one torch thread (tiny networks), and writable copies of the shipped fixtures."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from engine.conformance import reference_dir


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def fixtures_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped conformance set, to perturb."""
    target = tmp_path / "conformance"
    shutil.copytree(reference_dir(), target)
    return target
