"""Side-by-side timing of our network and FaceLift's own code: a fresh process per run,
alternating ours / the reference, the same config, weights and inputs in both.

Each child prints one JSON line: {"impl", "seconds", "cpu_seconds", "peak_rss_mb", "checksum",
"profile"}. ``checksum`` (the output's mean |value|) shows both computed the same thing; ``profile``
(with ``--profile``) is the self CPU time per torch operator, to find where the time goes.
``cpu_seconds`` is the process's CPU time during the timed call: on a machine shared with other
jobs (more runnable threads than cores) wall time also counts the time spent waiting for a core,
CPU time mostly the work itself, so its ratio is the steadier one under load.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def weights_for(keys_shapes: list[tuple[str, tuple[int, ...]]], seed: int) -> dict[str, Any]:
    """Seeded random weights by parameter name (independent of module order): N(0, 0.02);
    1-D tensors named *weight are 1 (norms), other 1-D tensors 0 (biases)."""
    import torch

    out = {}
    for i, (key, shape) in enumerate(sorted(keys_shapes)):
        if len(shape) == 1:
            out[key] = torch.full(shape, 1.0 if key.endswith("weight") else 0.0)
        else:
            out[key] = torch.randn(shape, generator=torch.Generator().manual_seed(seed + i)) * 0.02
    return out


def time_call(
    fn: Callable[[], Any], warmup: bool, profile: bool
) -> tuple[float, float, Any, dict[str, float]]:
    """(wall seconds of one call, its process CPU seconds, its output, self CPU ms per operator
    when profiling)."""
    import torch

    with torch.inference_mode():
        if warmup:
            fn()
        c0, t0 = time.process_time(), time.perf_counter()
        out = fn()
        seconds = time.perf_counter() - t0
        cpu_seconds = time.process_time() - c0
        ops: dict[str, float] = {}
        if profile:
            from torch.profiler import ProfilerActivity
            from torch.profiler import profile as torch_profile

            with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
                fn()
            for event in prof.key_averages():
                ops[event.key] = event.self_cpu_time_total / 1000.0
    return seconds, cpu_seconds, out, ops


def child_result(impl: str, seconds: float, cpu_seconds: float, out: Any, ops: dict[str, float]) -> str:
    return json.dumps(
        {
            "impl": impl,
            "seconds": seconds,
            "cpu_seconds": cpu_seconds,
            "peak_rss_mb": peak_rss_mb(),
            "checksum": float(out.float().abs().mean()),
            "profile": ops,
        }
    )


def add_compare_arguments(parser: argparse.ArgumentParser, model: str) -> None:
    """The flags every ``--compare`` bench shares: the checkout to time ``model`` against, the
    number of runs, profiling, warm-up, and the hidden flag its child processes run with."""
    parser.add_argument(
        "--compare", type=Path, metavar="CHECKOUT", help=f"time FaceLift's own {model} beside ours"
    )
    parser.add_argument("--runs", type=int, default=3, help="runs of each implementation (--compare)")
    parser.add_argument("--profile", action="store_true", help="operator profile of one call (--compare)")
    parser.add_argument("--no-warmup", action="store_true", help="time the first call (--compare)")
    parser.add_argument("--compare-child", choices=("ours", "ref"), help=argparse.SUPPRESS)


def child_command(script: str, args: Any, impl: str, model_args: list[str]) -> list[str]:
    """The command that times ``impl`` ("ours" | "ref") once in a fresh process: ``script``
    with ``--compare-child``, the model's own ``model_args`` and the shared timing flags."""
    cmd = [sys.executable, script, "--compare", str(args.compare), "--compare-child", impl, *model_args]
    cmd += ["--profile"] if args.profile else []
    cmd += ["--no-warmup"] if args.no_warmup else []
    return cmd


def run_alternating(command: Callable[[str], list[str]], runs: int) -> list[dict[str, Any]]:
    """``runs`` runs of each implementation, alternating (ours, ref, ref, ours, ours, ref, ...:
    each pair switches who goes first, so a drift in the machine's load hits both alike)."""
    results = []
    for i in range(runs):
        order = ("ours", "ref") if i % 2 == 0 else ("ref", "ours")
        for impl in order:
            proc = subprocess.run(command(impl), capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                raise SystemExit(f"{impl} run failed:\n{proc.stderr[-3000:]}")
            data = json.loads(proc.stdout.strip().splitlines()[-1])
            results.append(data)
            print(f"... run {i + 1} {impl}: {data['seconds']:.2f} s", file=sys.stderr, flush=True)
    return results


def report(title: str, results: list[dict[str, Any]], top: int = 12) -> str:
    """Times per implementation, min/median ratios ours/ref, peak RSS, and the operator profile."""
    by = {impl: [r for r in results if r["impl"] == impl] for impl in ("ours", "ref")}
    lines = [
        title,
        f"load average {os.getloadavg()[0]:.1f} after the runs (other processes were running: times measured under load)",
        "",
    ]
    for impl, rows in by.items():
        times = " / ".join(f"{r['seconds']:.2f}" for r in rows)
        rss = max(r["peak_rss_mb"] for r in rows)
        lines.append(
            f"{impl:<5} time s {times}   min {min(r['seconds'] for r in rows):.2f}  "
            f"median {statistics.median(r['seconds'] for r in rows):.2f}   peak RSS {rss:,.0f} MB"
        )
    ours, ref = by["ours"], by["ref"]

    def ratio(f: Callable[[list[float]], float], key: str = "seconds") -> float:
        return f([r[key] for r in ours]) / f([r[key] for r in ref])

    lines.append(
        f"ours / reference: {ratio(min):.3f} by minimum, {ratio(statistics.median):.3f} by median; "
        f"peak RSS {max(r['peak_rss_mb'] for r in ours) / max(r['peak_rss_mb'] for r in ref):.3f}"
    )
    if all(r.get("cpu_seconds") is not None for r in results):
        for impl, rows in by.items():
            cpu = " / ".join(f"{r['cpu_seconds']:.2f}" for r in rows)
            lines.append(f"{impl:<5} CPU s  {cpu}")
        lines.append(
            f"ours / reference by CPU time: {ratio(min, 'cpu_seconds'):.3f} by minimum, "
            f"{ratio(statistics.median, 'cpu_seconds'):.3f} by median"
        )
    check = abs(ours[0]["checksum"] - ref[0]["checksum"]) / max(abs(ref[0]["checksum"]), 1e-12)
    lines.append(
        f"same output: mean |out| {ours[0]['checksum']:.6g} vs {ref[0]['checksum']:.6g} (rel. diff {check:.1e})"
    )
    if ours[0]["profile"] and ref[0]["profile"]:
        names = set(ours[0]["profile"]) | set(ref[0]["profile"])
        rows = sorted(names, key=lambda n: -max(ours[0]["profile"].get(n, 0), ref[0]["profile"].get(n, 0)))
        lines += ["", f"{'operator (self CPU ms, one call)':<48} {'ours':>10} {'ref':>10}"]
        for name in rows[:top]:
            lines.append(
                f"{name[:48]:<48} {ours[0]['profile'].get(name, 0):>10.1f} {ref[0]['profile'].get(name, 0):>10.1f}"
            )
        total_o, total_r = sum(ours[0]["profile"].values()), sum(ref[0]["profile"].values())
        lines.append(f"{'all operators':<48} {total_o:>10.1f} {total_r:>10.1f}")
    return "\n".join(lines)
