"""bench/ scripts are not a package: tests load them by path (bench/ on sys.path would shadow the
``viewer`` package with bench/viewer.py)."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def load_bench(name: str) -> ModuleType:
    key = f"facelift_bench_{name}"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, BENCH / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module  # dataclasses look their module up while the class is built
        spec.loader.exec_module(module)
    return sys.modules[key]


@pytest.fixture
def bench_module() -> Callable[[str], ModuleType]:
    """bench_module("pipeline") -> bench/pipeline.py as a module."""
    return load_bench
