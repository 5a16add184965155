"""Ctrl+C during `facelift reconstruct --ray` (issue 17): the batch stops with exit 130 and
'facelift: interrupted', the photos in flight leave nothing partial, the Ray instance the
command started goes away with it, and re-running with --resume redoes only what was not done.
Skipped when Ray (the optional [cluster] extra) is not installed."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest
from batch_photos import write_photos
from cancel_cases import REPO, interrupt_cli
from reliability_harness import leftovers

from engine.batch.complete import MARKER

pytest.importorskip(
    "ray", reason="Ray is not installed: it is the optional [cluster] extra (pip install '.[cluster]')"
)

N_PHOTOS = 4


def _processes_with_env(entry: str) -> list[int]:
    """Pids of live processes whose environment holds ``entry`` ("NAME=value"): the command
    and everything it started (Ray's GCS, raylet, dashboard and workers inherit it)."""
    found = []
    for env_file in Path("/proc").glob("[0-9]*/environ"):
        try:
            if entry.encode() in env_file.read_bytes().split(b"\0"):
                found.append(int(env_file.parent.name))
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return found


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc")
def test_ctrl_c_during_a_ray_batch_exits_130_leaves_nothing_partial_and_resume_finishes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    photos = tmp_path / "photos"
    write_photos(photos, N_PHOTOS)
    out = tmp_path / "out"
    tag = f"FACELIFT_TEST_RUN={secrets.token_hex(8)}"
    monkeypatch.setenv(*tag.split("=", 1))
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no weights found by accident
    monkeypatch.delenv("FACELIFT_WEIGHTS", raising=False)
    # Frames make each photo's write stage long enough that others are in flight at the press.
    args = [
        "reconstruct",
        str(photos),
        "-o",
        str(out),
        "--engine",
        "instant",
        "--frames",
        "40",
        "--size",
        "32",
    ]

    # --ray with no address: the command starts a local Ray instance of its own
    rc, stderr = interrupt_cli([*args, "--ray", "--ray-workers", "2"], wait_for=": done ->", timeout=600)

    assert rc == 130, f"exit {rc}; stderr:\n{stderr}"
    assert "Traceback" not in stderr, stderr
    lines = [ln for ln in stderr.replace("\r", "\n").splitlines() if ln.startswith("facelift:")]
    assert lines[-1] == "facelift: interrupted", stderr
    assert leftovers(out) == [] and not list(out.glob(".*"))  # no staging folder of a photo in flight
    done = sorted(p.name for p in out.iterdir())
    assert 1 <= len(done) < N_PHOTOS, done
    assert all((out / name / MARKER).is_file() for name in done)  # only complete photos stand

    deadline = time.monotonic() + 60  # Ray's processes exit once the driver's shutdown reaches them
    while _processes_with_env(tag) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _processes_with_env(tag) == [], "processes of the interrupted run are still alive"

    # the user runs the same command again, with --resume, in a new process (and a new Ray)
    finished = {name: (out / name / "gaussians.ply").stat().st_mtime_ns for name in done}
    again = subprocess.run(
        [sys.executable, "-m", "engine.cli", *args, "--ray", "--ray-workers", "2", "--resume"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=600,
        check=False,
    )
    assert again.returncode == 0, again.stderr
    assert f"{len(done)} of {N_PHOTOS} photos complete already, skipped" in again.stderr
    assert sorted(p.name for p in out.iterdir()) == [f"photo{i}" for i in range(N_PHOTOS)]
    assert {name: (out / name / "gaussians.ply").stat().st_mtime_ns for name in done} == finished
