"""`facelift reconstruct --ray` on a local Ray instance with 2 CPUs, started once for this module.

Six photos and a corrupt one: --ray gives the same gaussians.ply bytes as a serial run (tiny
conformance FaceLift weights and the instant engine), the corrupt photo fails alone in one
line (exit 1), --resume does no work for finished photos, and a worker killed while it writes a
photo leaves nothing partial and the photo completes on a retry. Skipped when Ray (the optional
[cluster] extra) is not installed.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest
from batch_photos import write_photos

from engine.cli import main

ray = pytest.importorskip(
    "ray", reason="Ray is not installed: it is the optional [cluster] extra (pip install '.[cluster]')"
)

pytestmark = pytest.mark.slow
FAST = ["--steps", "2", "--size", "16", "--frames", "0"]
N_PHOTOS = 6
BAD = "photo2_corrupt.jpg"


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray instance with 2 CPUs for the whole module (starting one takes seconds);
    "local": a new one even when a cluster runs on this machine (``ray start``)."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> Path:
    """Six photos and, between them by name, a corrupt one."""
    folder = tmp_path_factory.mktemp("batch") / "photos"
    write_photos(folder, N_PHOTOS)
    (folder / BAD).write_bytes(b"\xff\xd8\xff\xe0 this is not the rest of a jpeg")
    return folder


@pytest.fixture(scope="module")
def isolated_home(tmp_path_factory):
    """No FaceLift weights found by accident: the engine is always named."""
    mp = pytest.MonkeyPatch()
    home = tmp_path_factory.mktemp("home")
    mp.delenv("FACELIFT_WEIGHTS", raising=False)
    mp.setenv("HOME", str(home))
    mp.setenv("XDG_DATA_HOME", str(home / "xdg"))
    yield
    mp.undo()


def _facelift_args(photos: Path, out: Path, weights: Path) -> list[str]:
    # One CPU thread, as each Ray worker here has: on the CPU, FaceLift's numbers depend on the
    # thread count (torch splits its reductions by thread), not on where or in what order photos run.
    return ["reconstruct", str(photos), "-o", str(out), "--weights", str(weights), *FAST, "--threads", "1"]


def _instant_args(photos: Path, out: Path) -> list[str]:
    return ["reconstruct", str(photos), "-o", str(out), "--engine", "instant", *FAST]


def _run(args: list[str], capsys) -> tuple[int, str]:
    code = main(args)
    return code, capsys.readouterr().err


@pytest.fixture(scope="module")
def facelift_serial(photos, conformance_dir, isolated_home, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("serial") / "facelift"
    assert main(_facelift_args(photos, out, conformance_dir)) == 1  # the corrupt photo
    return out


def _same_heads(a: Path, b: Path) -> None:
    names = [f"photo{i}" for i in range(N_PHOTOS)]
    assert sorted(p.name for p in a.iterdir()) == names
    assert sorted(p.name for p in b.iterdir()) == names  # nothing partial, no folder for the bad one
    for name in names:
        assert (a / name / "gaussians.ply").read_bytes() == (b / name / "gaussians.ply").read_bytes(), name


def _error_lines(err: str) -> list[str]:
    return [ln for ln in err.splitlines() if ln.startswith("facelift: error:")]


def test_facelift_on_ray_matches_serial_then_resume_does_no_work(
    local_ray, photos, conformance_dir, isolated_home, facelift_serial, tmp_path, capsys
):
    out = tmp_path / "out"
    report = tmp_path / "report.json"
    args = [*_facelift_args(photos, out, conformance_dir), "--ray", "--report", str(report)]
    code, err = _run(args, capsys)
    assert code == 1, err
    bad = _error_lines(err)
    assert len(bad) == 1 and BAD in bad[0] and "damaged image" in bad[0]
    assert f"1 of {N_PHOTOS + 1} inputs failed" in err
    _same_heads(facelift_serial, out)

    first = json.loads(report.read_text())
    workers = {w["worker"]: w for w in first["workers"]}
    assert len(workers) == 2 and all(
        w["model_loads"] == 1 and w["cpu_threads"] == 1 for w in workers.values()
    )
    assert {p["worker"] for p in first["photos"]} == set(workers)  # both did photos
    assert first["counts"] == {"done": N_PHOTOS, "skipped": 0, "failed": 1, "not run": 0}

    # --resume: the finished photos are not touched; only the bad one is tried again
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    code, err = _run([*args, "--resume"], capsys)
    assert code == 1, err
    assert f"{N_PHOTOS} of {N_PHOTOS + 1} photos complete already, skipped" in err
    assert len(_error_lines(err)) == 1
    again = json.loads(report.read_text())
    assert again["counts"] == {"done": 0, "skipped": N_PHOTOS, "failed": 1, "not run": 0}
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before


def test_instant_on_ray_matches_serial(local_ray, photos, isolated_home, tmp_path, capsys):
    """The instant engine's numbers do not depend on the thread count: serial on two threads,
    the workers on one each."""
    serial, on_ray = tmp_path / "serial", tmp_path / "ray"
    report = tmp_path / "report.json"
    code, err = _run([*_instant_args(photos, serial), "--threads", "2"], capsys)
    assert code == 1, err
    code, err = _run(
        [*_instant_args(photos, on_ray), "--ray", "--ray-workers", "2", "--report", str(report)], capsys
    )
    assert code == 1, err
    assert len(_error_lines(err)) == 1 and BAD in _error_lines(err)[0]
    _same_heads(serial, on_ray)
    workers = json.loads(report.read_text())["workers"]
    assert len(workers) == 2 and [w["model_loads"] for w in workers] == [1, 1]


def test_a_worker_killed_mid_photo_leaves_nothing_partial_and_the_photo_is_retried(
    local_ray, photos, conformance_dir, isolated_home, facelift_serial, tmp_path, capsys
):
    from engine.batch.ray_pool import ACTOR_PREFIX

    out = tmp_path / "out"
    report = tmp_path / "report.json"
    two = [photos / "photo0.png", photos / "photo1.png"]
    # a longer write stage (a turntable) so that the test sees the photo half written
    args = ["reconstruct", *map(str, two), "-o", str(out), "--weights", str(conformance_dir)]
    args += ["--steps", "2", "--size", "64", "--frames", "12", "--threads", "1"]
    args += ["--ray", "--ray-workers", "1", "--report", str(report)]
    result: dict[str, int] = {}
    runner = threading.Thread(target=lambda: result.setdefault("code", main(args)))
    runner.start()

    staged = None
    deadline = time.monotonic() + 300
    while staged is None and runner.is_alive() and time.monotonic() < deadline:
        staged = next((p for p in out.glob(".photo*.partial-*") if (p / "gaussians.ply").exists()), None)
        time.sleep(0.01)
    assert staged is not None, "the worker never staged a photo"
    names = [n for n in ray.util.list_named_actors() if n.startswith(ACTOR_PREFIX)]
    assert len(names) == 1
    ray.kill(ray.get_actor(names[0]))  # mid-photo: its gaussians.ply is written, the rest is not

    runner.join(timeout=300)
    assert not runner.is_alive()
    assert result["code"] == 0, capsys.readouterr().err
    assert not staged.exists()
    assert sorted(p.name for p in out.iterdir()) == ["photo0", "photo1"]  # nothing partial
    photos_report = json.loads(report.read_text())["photos"]
    killed = staged.name.split(".partial-")[0].lstrip(".")
    entry = next(p for p in photos_report if Path(p["output"]).name == killed)
    assert entry["status"] == "done" and entry["attempts"] == 2
    assert "worker-2" in entry["worker"]  # the replacement actor did it
    for name in ("photo0", "photo1"):
        assert (out / name / "gaussians.ply").read_bytes() == (
            facelift_serial / name / "gaussians.ply"
        ).read_bytes()
