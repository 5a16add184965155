"""Photos per minute of `facelift reconstruct`: serial vs --ray, and model loads per worker.

Usage: python bench/batch.py [--photos 6] [--workers 2] [--engine instant] [--frames 0]

Makes N different photos from the astronaut sample (shifted crops, mirrored, brightened: the
batch tests' photos, tests/batch_photos.py), then runs the real command line twice in fresh
processes on the same photos: serially, and with ``--ray --ray-workers W`` (a local Ray instance
the command starts itself, W workers of one CPU each). Prints, per run: wall time of the whole
command (Python start, Ray start, model loads included), the batch's own wall time from its
--report, photos per minute from that, and the model loads each worker reported (1 = each
worker loaded the models once). Also checks that both runs wrote byte-identical gaussians.ply
files.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from batch_photos import write_photos  # noqa: E402


def run_batch(photos: Path, out: Path, extra: list[str], engine: str, frames: int) -> dict[str, object]:
    """One `facelift reconstruct` in a fresh process; its report plus the command's wall time."""
    report = out.with_suffix(".json")
    cmd = [sys.executable, "-m", "engine.cli", "reconstruct", str(photos), "-o", str(out)]
    cmd += ["--engine", engine, "--frames", str(frames), "--report", str(report), *extra]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"bench/batch.py: {' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr[-2000:]}")
    data = json.loads(report.read_text())
    data["command_seconds"] = wall
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=6)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--engine", default="instant")
    parser.add_argument("--frames", type=int, default=0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="facelift-bench-batch-") as tmp:
        root = Path(tmp)
        write_photos(root / "photos", args.photos)
        runs = {
            "serial": run_batch(root / "photos", root / "serial", [], args.engine, args.frames),
            f"--ray, {args.workers} workers": run_batch(
                root / "photos",
                root / "ray",
                ["--ray", "--ray-workers", str(args.workers)],
                args.engine,
                args.frames,
            ),
        }
        same = all(
            (root / "serial" / p.stem / "gaussians.ply").read_bytes()
            == (root / "ray" / p.stem / "gaussians.ply").read_bytes()
            for p in sorted((root / "photos").iterdir())
        )

    print(f"{args.photos} photos, {args.engine} engine, --frames {args.frames}, {os.cpu_count()} CPUs")
    print(f"{'run':<18} {'command s':>9} {'batch s':>8} {'photos/min':>10}  model loads per worker")
    base = None
    for name, data in runs.items():
        counts = data["counts"]
        assert isinstance(counts, dict)
        done = counts["done"]
        batch = float(data["wall_seconds"])  # type: ignore[arg-type]
        rate = 60.0 * done / batch
        base = base or rate
        workers = data["workers"]
        assert isinstance(workers, list)
        loads = ", ".join(f"{w['worker'].split('@')[0]}: {w['model_loads']}" for w in workers)
        print(f"{name:<18} {data['command_seconds']:>9.1f} {batch:>8.1f} {rate:>10.2f}  {loads}")
    print(f"speed-up of --ray over serial: {rate / base:.2f}x")
    print(f"gaussians.ply byte-identical between the runs: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
