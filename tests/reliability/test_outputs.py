"""Outputs rows of the reliability matrix (issue 9), part 1: an unwritable folder and a full disk,
through the engine API and the CLI. In every case: the documented error with one line naming the
file and the problem, no partial file or staging folder left, and an earlier file at the
destination byte-identical. Existing outputs and interrupted exports: test_outputs_interrupted.py;
the window: test_outputs_gui.py.

Faults are injected in-process (tests/reliability/outputs_cases.py) and, where this machine
allows, made real: `facelift` run as root without its permission override (setpriv) or as
nobody into a 0o555 folder, and a real 1 MB tmpfs that fills up. The shared instant
reconstruction is a session fixture in conftest.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from outputs_cases import (
    DENIED,
    FILE_WRITERS,
    NO_SPACE,
    earlier,
    fault_while_writing,
    fill,
    limit_ffmpeg,
    snapshot,
    tiny_tmpfs,
    unwritable,
    write_kind,
)
from reliability_harness import assert_message, assert_nothing_partial, assert_one_line_error, run_cli

from engine import cli
from engine.api import OutputError, ReconstructionResult
from engine.io.ply import save_ply
from engine.outputs import OUTPUT_FILES, OutputSpec, write_outputs
from facelift_desktop import exports as gui_exports

# ==============================================================================================
# 1. Output folder not writable
# ==============================================================================================


@pytest.mark.parametrize("kind", [*FILE_WRITERS, "views", "outputs"])
def test_engine_writers_refuse_an_unwritable_folder(tmp_path, monkeypatch, small_result, kind) -> None:
    folder = tmp_path / "dest"
    if kind == "views":
        names = [f"head_{i}_{n}.png" for i, n in enumerate(("front", "front_right", "right"))]
        before = earlier(folder, *names)
        unwritable(monkeypatch, folder)
        with pytest.raises(OutputError) as info:
            gui_exports.export_views(small_result.views, folder, stem="head", overwrite=True)
        target = folder / names[0]
    elif kind == "outputs":
        before = earlier(folder / "out", *OUTPUT_FILES)
        unwritable(monkeypatch, folder)
        with pytest.raises(OutputError) as info:
            write_outputs(
                small_result, folder / "out", OutputSpec(turntable_frames=2, render_size=32), overwrite=True
            )
        target = folder / "out"
        before = {f"out/{k}": v for k, v in before.items()}
    else:
        before = earlier(folder, {"ply": "gaussians.ply", "splat": "head.splat"}.get(kind, f"x.{kind}"))
        name = {"png": "snapshot.png", "mp4": "turntable.mp4"}.get(kind)
        if name:
            (folder / name).write_bytes(b"earlier")
            before = snapshot(folder)
        unwritable(monkeypatch, folder)
        with pytest.raises(OutputError) as info:
            target = write_kind(kind, small_result, folder)
        target = folder / (name or {"ply": "gaussians.ply", "splat": "head.splat"}[kind])
    monkeypatch.undo()
    assert_message(str(info.value), str(target), DENIED)
    assert snapshot(folder) == before
    assert_nothing_partial(tmp_path)


def _python_for_nobody(home: Path) -> tuple[str, dict[str, str]]:
    """An interpreter user nobody can run with this repo and its packages importable, and the
    environment for it: this one, else the system's python of the same version with this
    environment's site-packages on PYTHONPATH (this one may live under root's 0700 home).
    Skips the test, saying why, when there is none."""
    import sysconfig

    repo = str(Path(__file__).resolve().parents[2])
    site = sysconfig.get_paths()["purelib"]
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    reasons = []
    for python, path in (
        (sys.executable, repo),
        (shutil.which(version, path="/usr/bin:/usr/local/bin"), f"{repo}:{site}"),
    ):
        if python is None:
            reasons.append(f"no system {version}")
            continue
        env = {"PYTHONPATH": path, "HOME": str(home), "PATH": os.environ.get("PATH", "")}
        try:
            probe = subprocess.run(
                [python, "-c", "import engine.cli, numpy, torch, PIL"],
                user="nobody",
                env=env,
                capture_output=True,
                text=True,
                check=False,
                cwd="/",
            )
        except OSError as exc:  # e.g. the interpreter lives under root's 0700 home
            reasons.append(f"nobody cannot run {python} ({os.path.realpath(python)}): {exc.strerror}")
            continue
        if probe.returncode == 0:
            return python, env
        reasons.append(f"{python}: {probe.stderr.strip().splitlines()[-1:] or probe.returncode}")
    pytest.skip("user nobody cannot run python with this repo: " + "; ".join(reasons))


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A 0o777 folder outside tmp_path (whose parents are 0700), so another user can enter it."""
    path = Path(tempfile.mkdtemp(prefix="facelift-outputs-"))
    path.chmod(0o777)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _read_only_target(
    shared: Path, small_result: ReconstructionResult
) -> tuple[Path, Path, dict[str, bytes]]:
    """shared/good.ply (readable by all) and shared/ro/ (0o555) holding an earlier x.png."""
    good = shared / "good.ply"
    save_ply(small_result.gaussians, good)
    good.chmod(0o644)
    ro = shared / "ro"
    before = earlier(ro, "x.png")
    ro.chmod(0o555)
    return good, ro, before


@pytest.mark.slow
def test_cli_real_unwritable_folder_as_root_without_override(shared_dir, small_result, astronaut_png) -> None:
    """A real EACCES: root without CAP_DAC_OVERRIDE (setpriv) cannot write into a 0o555 folder."""
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is not installed")
    good, ro, before = _read_only_target(shared_dir, small_result)
    drop = [
        "setpriv",
        "--inh-caps=-dac_override,-dac_read_search",
        "--bounding-set=-dac_override,-dac_read_search",
    ]
    run = run_cli("render", good, "-o", ro / "x.png", "--size", "32", "--overwrite", wrapper=drop)
    assert_one_line_error(run, 2, str(ro / "x.png"), DENIED)
    run = run_cli("reconstruct", astronaut_png, "-o", ro / "out", "--engine", "instant", wrapper=drop)
    assert_one_line_error(run, 2, str(ro / "out"), DENIED)
    assert "using the instant engine" not in run.stderr  # refused before any model loads
    assert snapshot(ro) == before
    assert_nothing_partial(shared_dir)


@pytest.mark.slow
def test_cli_real_unwritable_folder_as_nobody(shared_dir, small_result) -> None:
    """A real EACCES for an ordinary user: `facelift render` run as nobody into a 0o555 folder."""
    python, env = _python_for_nobody(shared_dir)
    good, ro, before = _read_only_target(shared_dir, small_result)
    run = run_cli(
        "render",
        good,
        "-o",
        ro / "x.png",
        "--size",
        "32",
        "--overwrite",
        user="nobody",
        cwd=shared_dir,
        env=env,
        python=python,
    )
    assert_one_line_error(run, 2, str(ro / "x.png"), DENIED)
    assert snapshot(ro) == before
    assert_nothing_partial(shared_dir)


# ==============================================================================================
# 2. Disk full
# ==============================================================================================


@pytest.mark.parametrize(
    ("kind", "match", "after"),
    [
        ("ply", "gaussians", 100_000),  # header + part of the body
        ("splat", "head", 50_000),
        ("png", "snapshot", 20_000),
    ],
)
def test_engine_disk_full_mid_file(tmp_path, monkeypatch, small_result, kind, match, after) -> None:
    folder = tmp_path / "dest"
    name = {"ply": "gaussians.ply", "splat": "head.splat", "png": "snapshot.png"}[kind]
    before = earlier(folder, name)
    hits = fault_while_writing(monkeypatch, folder, match, after)
    with pytest.raises(OutputError) as info:
        write_kind(kind, small_result, folder)
    monkeypatch.undo()
    assert hits, "the fault did not fire"
    assert_message(str(info.value), str(folder / name), NO_SPACE)
    assert snapshot(folder) == before
    assert_nothing_partial(tmp_path)


@pytest.mark.parametrize("during", ["input", "gaussians", "output", "multiview"])
def test_write_outputs_disk_full_during_each_file(tmp_path, monkeypatch, small_result, during) -> None:
    """Disk full while write_outputs stages any file: the message names that file in the output
    folder (not the hidden staging folder), no staging folder is left, earlier outputs intact."""
    out = tmp_path / "out"
    before = earlier(out, *OUTPUT_FILES)
    hits = fault_while_writing(monkeypatch, tmp_path, during, 3_000)
    with pytest.raises(OutputError) as info:
        write_outputs(small_result, out, OutputSpec(turntable_frames=2, render_size=32), overwrite=True)
    monkeypatch.undo()
    assert hits
    message = str(info.value)
    assert_message(message, str(out / f"{during}."), NO_SPACE)
    assert ".partial-" not in message
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert_nothing_partial(tmp_path)


def test_engine_mp4_write_fails_mid_frames(tmp_path, monkeypatch, small_result) -> None:
    folder = tmp_path / "dest"
    before = earlier(folder, "turntable.mp4")
    limit_ffmpeg(monkeypatch, tmp_path, 8)
    with pytest.raises(OutputError) as info:
        write_kind("mp4", small_result, folder)
    monkeypatch.undo()
    assert_message(
        str(info.value), str(folder / "turntable.mp4"), "ffmpeg could not encode", "File too large"
    )
    assert snapshot(folder) == before
    assert_nothing_partial(tmp_path)


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    with tiny_tmpfs(tmp_path / "tmpfs", "1m") as mount:
        yield mount


@pytest.mark.parametrize("kind", FILE_WRITERS)
def test_engine_real_full_tmpfs(tmpfs, small_result, kind) -> None:
    """A real 1 MB tmpfs, filled up to 8 KB: every writer fails with ENOSPC, cleanly."""
    name = {"ply": "gaussians.ply", "splat": "head.splat", "png": "snapshot.png", "mp4": "turntable.mp4"}[
        kind
    ]
    before = earlier(tmpfs, name)
    filler = fill(tmpfs, 8 * 1024)
    with pytest.raises(OutputError) as info:
        write_kind(kind, small_result, tmpfs)
    assert_message(str(info.value), str(tmpfs / name), NO_SPACE)
    filler.unlink()
    assert snapshot(tmpfs) == before
    assert_nothing_partial(tmpfs)


@pytest.mark.slow
def test_cli_reconstruct_into_a_real_full_tmpfs(tmpfs, astronaut_png) -> None:
    """`facelift reconstruct --overwrite` into a 1 MB tmpfs holding earlier outputs: the 50 MB
    gaussians.ply fills it; exit 2, one line naming it, earlier outputs intact, no staging left."""
    out = tmpfs / "astronaut"
    before = earlier(out, *OUTPUT_FILES)
    run = run_cli(
        "reconstruct",
        astronaut_png,
        "-o",
        tmpfs,
        "--engine",
        "instant",
        "--frames",
        "2",
        "--size",
        "64",
        "--overwrite",
    )
    line = assert_one_line_error(run, 2, str(out / "gaussians.ply"), NO_SPACE)
    assert ".partial-" not in line
    assert snapshot(out) == before
    assert sorted(p.name for p in tmpfs.iterdir()) == ["astronaut"]
    assert_nothing_partial(tmpfs)


def test_cli_render_into_a_real_full_tmpfs(tmpfs, tmp_path, small_result, capsys) -> None:
    good = tmp_path / "good.ply"
    save_ply(small_result.gaussians, good)
    before = earlier(tmpfs, "x.png", "x.mp4")
    filler = fill(tmpfs, 4 * 1024)
    for out in (tmpfs / "x.png", tmpfs / "x.mp4"):
        rc = cli.main(["render", str(good), "-o", str(out), "--size", "96", "--frames", "4", "--overwrite"])
        err = capsys.readouterr().err
        assert rc == 2, err
        errors = [ln for ln in err.splitlines() if ln.startswith("facelift: error:")]
        assert len(errors) == 1 and "Traceback" not in err, err
        assert_message(errors[0], str(out), NO_SPACE if out.suffix == ".png" else "ffmpeg could not encode")
    filler.unlink()
    assert snapshot(tmpfs) == before
    assert_nothing_partial(tmpfs)
