"""Soak: many reconstructions in one process -- memory, threads and open files must not grow.

Phase "api": ``--runs-api`` (default 50) instant-engine reconstructions of the astronaut photo
through the engine API (one InstantEngine, as the CLI and the GUI worker keep one), auto-crop
alternating on/off so consecutive runs do different work.
Phase "gui": ``--runs-gui`` (default 20) reconstructions through a real MainWindow with its
VisPy viewport and the real engine factory, each started like a user does (reconstruct(),
wait for run_finished, let the viewport draw the result). It needs an X display with OpenGL:
``xvfb-run -a -s "-screen 0 1920x1080x24 +extension GLX"``. ``--skip-gui`` leaves it out.

Measured after a garbage collection, per phase: RSS at the start, after the warm-up runs
(``--warmup``, default 1: the first run loads the mediapipe graphs and the engine) and at the
end; Python threads (threading) and OS threads (/proc/self/task); open file descriptors
(/proc/self/fd); the time of every run.

Goals (exit status 1 when one is missed, 0 otherwise; 2 on bad arguments):
  * RSS growth from after the warm-up to the end < 200 MB (``--max-growth-mb``);
  * no more Python threads, OS threads or open file descriptors at the end than after the
    warm-up.

Phase "facelift" (with ``--facelift-weights DIR``): ``--runs-facelift`` (default 20) FaceLift
runs, 4 diffusion steps, the seed changing each run, through one FaceLiftEngine on CPU -- for
small weights such as the conformance fixtures: the torch path's threads, files and memory.

Run: ``nice -n 10 xvfb-run -a -s "-screen 0 1920x1080x24 +extension GLX" .venv/bin/python bench/soak.py``.
tests/reliability/test_soak.py runs the same machinery (``soak_api`` / ``soak_gui``) for a few runs.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

ASTRONAUT = REPO / "resources" / "samples" / "astronaut.png"
MB = 1024 * 1024


@dataclass(frozen=True)
class Sample:
    """The process at one moment: RSS in bytes, thread and descriptor counts."""

    rss: int
    py_threads: int
    os_threads: int
    fds: int

    @classmethod
    def now(cls) -> Sample:
        import psutil

        gc.collect()
        return cls(
            rss=psutil.Process().memory_info().rss,
            py_threads=threading.active_count(),
            os_threads=len(os.listdir("/proc/self/task")),
            fds=len(os.listdir("/proc/self/fd")),
        )


@dataclass
class PhaseReport:
    """One phase: samples at the start, after the warm-up and at the end; seconds per run."""

    name: str
    start: Sample
    run_seconds: list[float] = field(default_factory=list)
    rss_trace: list[int] = field(default_factory=list)  # RSS after every run
    warm: Sample | None = None
    end: Sample | None = None

    @property
    def growth_mb(self) -> float:
        """RSS growth from after the warm-up to the end, MB."""
        assert self.warm is not None and self.end is not None
        return (self.end.rss - self.warm.rss) / MB

    def problems(self, max_growth_mb: float) -> list[str]:
        """The goals this phase missed (empty when all are met)."""
        assert self.warm is not None and self.end is not None
        out = []
        if self.growth_mb >= max_growth_mb:
            out.append(
                f"{self.name}: RSS grew {self.growth_mb:.0f} MB after the warm-up (goal < {max_growth_mb:g})"
            )
        for what, a, b in (
            ("Python threads", self.warm.py_threads, self.end.py_threads),
            ("OS threads", self.warm.os_threads, self.end.os_threads),
            ("open file descriptors", self.warm.fds, self.end.fds),
        ):
            if b > a:
                out.append(f"{self.name}: {what} grew from {a} to {b}")
        return out


def _measure(
    name: str, runs: int, warmup: int, one_run: Callable[[int], None], log: Callable[[str], None]
) -> PhaseReport:
    """Call ``one_run(i)`` ``runs`` times, sampling the process around it."""
    if not 0 <= warmup < runs:
        raise ValueError(f"{name}: need more runs ({runs}) than warm-up runs ({warmup})")
    report = PhaseReport(name, Sample.now())
    if warmup == 0:
        report.warm = report.start
    for i in range(runs):
        t = time.perf_counter()
        one_run(i)
        report.run_seconds.append(time.perf_counter() - t)
        sample = Sample.now()
        report.rss_trace.append(sample.rss)
        if i + 1 == warmup:
            report.warm = sample
        if (i + 1) % 10 == 0 or i + 1 == runs:
            log(
                f"  {name} run {i + 1}/{runs}: {report.run_seconds[-1]:.2f} s, RSS {sample.rss / MB:.0f} MB, "
                f"threads {sample.py_threads}/{sample.os_threads}, fds {sample.fds}"
            )
    report.end = Sample.now()
    return report


# --------------------------------------------------------------------------------------------
# Phase api
# --------------------------------------------------------------------------------------------


def soak_api(runs: int = 50, warmup: int = 1, log: Callable[[str], None] = print) -> PhaseReport:
    """``runs`` instant reconstructions through one InstantEngine (auto-crop on/off in turn)."""
    from engine.api import CancelToken, ReconstructionRequest
    from engine.engines import InstantEngine
    from engine.settings import RunOptions

    engine = InstantEngine()
    counts: list[int] = []

    def one_run(i: int) -> None:
        request = ReconstructionRequest(ASTRONAUT, RunOptions(auto_crop=i % 2 == 0, seed=i))
        result = engine.run(request, cancel=CancelToken())
        counts.append(len(result.gaussians))

    report = _measure("api", runs, warmup, one_run, log)
    if len(set(counts[0::2])) != 1 or len(set(counts[1::2])) != 1:
        raise AssertionError(f"the same request gave different results across the soak: {counts}")
    return report


def soak_facelift(
    weights: Path, runs: int = 20, warmup: int = 1, steps: int = 4, log: Callable[[str], None] = print
) -> PhaseReport:
    """``runs`` FaceLift reconstructions (diffusion -> GS-LRM, torch on the CPU) through one
    FaceLiftEngine, the seed changing every run. Meant for small weights (the tiny conformance
    set): it checks the torch path for leaks, not the released model's memory use."""
    from engine.api import CancelToken, ReconstructionRequest
    from engine.engines import FaceLiftEngine
    from engine.settings import RunOptions

    engine = FaceLiftEngine(weights, device="cpu")

    def one_run(i: int) -> None:
        request = ReconstructionRequest(ASTRONAUT, RunOptions(seed=i, num_steps=steps))
        engine.run(request, cancel=CancelToken())

    return _measure("facelift", runs, warmup, one_run, log)


# --------------------------------------------------------------------------------------------
# Phase gui
# --------------------------------------------------------------------------------------------


def soak_gui(
    runs: int = 20,
    warmup: int = 1,
    log: Callable[[str], None] = print,
    settings_dir: Path | None = None,
    run_timeout_s: float = 300.0,
) -> PhaseReport:
    """``runs`` reconstructions in a real MainWindow with its GL viewport (instant engine when no
    FaceLift weights are found -- run it with a home that has none). Needs a QApplication-capable
    X display with OpenGL."""
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from facelift_desktop.main_window import MainWindow
    from facelift_desktop.settings import AppSettings
    from viewer.canvas import configure_vispy

    app = QApplication.instance() or QApplication([sys.argv[0]])
    configure_vispy()
    own_dir = None
    if settings_dir is None:
        own_dir = tempfile.TemporaryDirectory(prefix="facelift-soak-")
        settings_dir = Path(own_dir.name)
    window = MainWindow(AppSettings.at_path(settings_dir / "settings.ini"), use_gl=True)
    window.modal_dialogs = False
    window.resize(1280, 800)
    window.show()
    try:
        _pump(app, 0.5)
        if not window.open_photo(ASTRONAUT):
            raise RuntimeError(f"the window could not open {ASTRONAUT}")
        outcome: list[Any] = []
        window.run_finished.connect(lambda r: outcome.append(r))
        window.run_failed.connect(lambda f: outcome.append(f))
        window.run_cancelled.connect(lambda: outcome.append("cancelled"))

        def one_run(i: int) -> None:
            window.parameters_panel.auto_crop.setChecked(i % 2 == 0)
            outcome.clear()
            loop = QEventLoop()
            window.run_finished.connect(loop.quit)
            window.run_failed.connect(loop.quit)
            QTimer.singleShot(int(run_timeout_s * 1000), loop.quit)
            if not window.reconstruct():
                raise RuntimeError("the window refused to reconstruct")
            if not outcome:
                loop.exec()
            window.run_finished.disconnect(loop.quit)
            window.run_failed.disconnect(loop.quit)
            if not outcome or outcome[0] is not window.result:
                reason = getattr(outcome[0], "reason", outcome[0]) if outcome else "timed out"
                raise RuntimeError(f"GUI run {i + 1} did not finish: {reason}")
            viewer = window.viewport.viewer
            assert viewer is not None, "no GL viewport (is there an X display with OpenGL?)"
            viewer.settle()  # the still, full-quality draw the user sees after a run
            _pump(app, 0.1)

        return _measure("gui", runs, warmup, one_run, log)
    finally:
        window.shutdown()
        window.close()
        window.deleteLater()
        _pump(app, 0.1)
        if own_dir is not None:
            own_dir.cleanup()


def _pump(app: Any, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.005)


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def format_table(reports: list[PhaseReport], max_growth_mb: float) -> str:
    """The results as a Markdown table plus ratios."""
    head = (
        "| phase | runs | RSS start / after warm-up / end (MB) | growth after warm-up (MB) | "
        "Python threads warm -> end | OS threads warm -> end | open fds warm -> end | "
        "s per run: first / median / last / max |"
    )
    lines = [head, "|" + "---|" * 8]
    for r in reports:
        assert r.warm is not None and r.end is not None
        secs = r.run_seconds
        lines.append(
            f"| {r.name} | {len(secs)} | {r.start.rss / MB:.0f} / {r.warm.rss / MB:.0f} / {r.end.rss / MB:.0f} | "
            f"{r.growth_mb:+.0f} (goal < {max_growth_mb:g}) | {r.warm.py_threads} -> {r.end.py_threads} | "
            f"{r.warm.os_threads} -> {r.end.os_threads} | {r.warm.fds} -> {r.end.fds} | "
            f"{secs[0]:.2f} / {statistics.median(secs):.2f} / {secs[-1]:.2f} / {max(secs):.2f} |"
        )
    lines.append("")
    for r in reports:
        secs = r.run_seconds
        after = secs[1:] or secs
        half = max(1, len(after) // 2)
        early, late = statistics.median(after[:half]), statistics.median(after[half:] or after)
        per_run = r.growth_mb / max(1, len(secs) - 1)
        lines.append(
            f"{r.name}: late/early run time (median of each half after run 1) = {late / early:.2f}; "
            f"RSS growth per run after warm-up = {per_run:+.2f} MB; peak RSS {max(r.rss_trace) / MB:.0f} MB"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs-api", type=int, default=50, help="engine-API runs (default 50)")
    parser.add_argument("--runs-gui", type=int, default=20, help="GUI runs (default 20)")
    parser.add_argument("--skip-gui", action="store_true", help="no GUI phase (no display needed)")
    parser.add_argument(
        "--facelift-weights",
        type=Path,
        help="also soak the FaceLift engine on these (small) weights, e.g. the conformance fixtures",
    )
    parser.add_argument("--runs-facelift", type=int, default=20, help="FaceLift runs (default 20)")
    parser.add_argument("--warmup", type=int, default=1, help="runs before the 'after warm-up' sample")
    parser.add_argument("--max-growth-mb", type=float, default=200.0, help="RSS growth goal (default 200)")
    args = parser.parse_args(argv)
    if args.runs_api <= args.warmup or (not args.skip_gui and args.runs_gui <= args.warmup):
        parser.error("each phase needs more runs than --warmup")

    import psutil

    print(
        f"soak: {os.cpu_count()} CPUs, {psutil.virtual_memory().total / 2**30:.0f} GB RAM, "
        f"load average {os.getloadavg()[0]:.1f}; instant engine on {ASTRONAUT.name}"
    )
    with tempfile.TemporaryDirectory(prefix="facelift-soak-home-") as home:
        # a fresh user's home: no FaceLift weights, settings in tmp (so the GUI uses the instant engine)
        os.environ.pop("FACELIFT_WEIGHTS", None)
        for var, sub in (("HOME", ""), ("XDG_DATA_HOME", "data"), ("XDG_CONFIG_HOME", "config")):
            os.environ[var] = str(Path(home) / sub)
        reports = [soak_api(args.runs_api, args.warmup)]
        if args.facelift_weights is not None:
            reports.append(soak_facelift(args.facelift_weights, args.runs_facelift, args.warmup))
        if not args.skip_gui:
            if not os.environ.get("DISPLAY"):
                print(
                    "soak: no DISPLAY for the GUI phase; run under xvfb-run or pass --skip-gui",
                    file=sys.stderr,
                )
                return 2
            reports.append(soak_gui(args.runs_gui, args.warmup, settings_dir=Path(home)))
    print()
    print(format_table(reports, args.max_growth_mb))
    problems = [p for r in reports for p in r.problems(args.max_growth_mb)]
    print()
    for p in problems:
        print(f"GOAL MISSED: {p}")
    print("all goals met" if not problems else f"{len(problems)} goal(s) missed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
