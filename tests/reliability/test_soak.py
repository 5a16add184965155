"""bench/soak.py's machinery for a handful of runs: no growth in threads or open files.

Counts only (never times). The full soak (50 API + 20 GUI runs, memory numbers) is
``bench/soak.py``; docs/RELIABILITY.md has its table.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]


def _soak() -> ModuleType:
    if "facelift_bench_soak" not in sys.modules:
        spec = importlib.util.spec_from_file_location("facelift_bench_soak", REPO / "bench" / "soak.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
        spec.loader.exec_module(module)
    return sys.modules["facelift_bench_soak"]


def _assert_no_growth(report) -> None:  # type: ignore[no-untyped-def]
    assert report.warm is not None and report.end is not None
    assert report.end.py_threads <= report.warm.py_threads, report
    assert report.end.os_threads <= report.warm.os_threads, report
    assert report.end.fds <= report.warm.fds, report
    assert report.problems(max_growth_mb=float("inf")) == []


def test_the_soak_machinery_sees_a_thread_and_a_file_leak(tmp_path: Path) -> None:
    """The counters are real: a run that leaks a file handle and a thread is reported."""
    soak = _soak()
    kept: list[object] = []
    stop = threading.Event()

    def leaky_run(i: int) -> None:
        kept.append(open(tmp_path / f"f{i}", "w"))  # noqa: SIM115 (the leak is the point)
        for _ in range(2):
            t = threading.Thread(target=stop.wait, daemon=True)
            t.start()
            kept.append(t)

    try:
        report = soak._measure("leaky", 4, 1, leaky_run, lambda _s: None)
    finally:
        stop.set()
        for f in kept:
            if hasattr(f, "close"):
                f.close()
    # 3 runs after the warm-up leaked 3 files and 6 threads; threads that earlier tests left
    # behind may end meanwhile, so only a lower bound is certain
    assert report.end.fds >= report.warm.fds + 3
    assert report.end.py_threads >= report.warm.py_threads + 3
    assert report.end.os_threads >= report.warm.os_threads + 3
    problems = report.problems(max_growth_mb=200)
    assert any("open file descriptors grew" in p for p in problems)
    assert any("Python threads grew" in p for p in problems)


@pytest.mark.slow
def test_api_soak_for_a_few_runs_leaks_no_threads_or_files(isolated_home: Path) -> None:
    report = _soak().soak_api(runs=4, warmup=1, log=lambda _s: None)
    assert len(report.run_seconds) == 4
    _assert_no_growth(report)


@pytest.mark.gl
@pytest.mark.slow
def test_gui_soak_for_a_few_runs_leaks_no_threads_or_files(qapp, isolated_home: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    report = _soak().soak_gui(runs=3, warmup=1, log=lambda _s: None, settings_dir=tmp_path)
    assert len(report.run_seconds) == 3
    _assert_no_growth(report)
