"""Outputs rows of the reliability matrix (issue 9): an unwritable folder, a full disk, existing
outputs without --overwrite, and an export interrupted half-way -- through the engine API, the CLI
and the GUI. In every case: the documented error with one line naming the file and the problem,
no partial file or staging folder left, and an earlier file at the destination byte-identical.

Faults are injected in-process (tests/reliability/outputs_cases.py) and, where this machine
allows, made real: `facelift` run as root without its permission override (setpriv) or as
nobody into a 0o555 folder, and a real 1 MB tmpfs that fills up.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from outputs_cases import fault_while_writing, fill, snapshot, tiny_tmpfs, unwritable
from reliability_harness import assert_message, assert_nothing_partial, assert_one_line_error, run_cli

from engine import cli
from engine.api import Cancelled, CancelToken, OutputError, ReconstructionRequest, ReconstructionResult
from engine.io import export as engine_export
from engine.io.images import save_png
from engine.io.ply import save_ply
from engine.io.video import write_video
from engine.outputs import OUTPUT_FILES, render_input_views, write_outputs
from facelift_desktop import exports as gui_exports

INTERRUPTS: dict[str, Callable[[], BaseException]] = {
    "error": lambda: RuntimeError("simulated failure half-way"),
    "ctrl-c": KeyboardInterrupt,
    "cancel": lambda: Cancelled("cancelled half-way"),
}
NO_SPACE = "No space left on device"
DENIED = "Permission denied"


# ---- fixtures: one real instant reconstruction per module ------------------------------------


@pytest.fixture(scope="module")
def instant_result() -> ReconstructionResult:
    """The instant engine on skimage's astronaut (real engine, ~210k Gaussians)."""
    from skimage import data

    from engine.engines import InstantEngine

    return InstantEngine().run(ReconstructionRequest(data.astronaut()))


@pytest.fixture(scope="module")
def small_result(instant_result: ReconstructionResult) -> ReconstructionResult:
    """Every 40th Gaussian of the real result, with six real renders as its views (fast to write)."""
    g = instant_result.gaussians
    keep = np.zeros(len(g), bool)
    keep[::40] = True
    small = g.subset(keep)
    return ReconstructionResult(
        gaussians=small,
        input_image=instant_result.input_image,
        views=render_input_views(small, 64),
        engine="instant",
        info={"unfiltered_gaussians": small},
    )


@pytest.fixture(scope="module")
def astronaut_png(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from skimage import data

    path = tmp_path_factory.mktemp("photos") / "astronaut.png"
    save_png(data.astronaut(), path)
    return path


def _earlier(folder: Path, *names: str) -> dict[str, bytes]:
    """Put an earlier file of each name in ``folder``; returns the snapshot to compare with."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(b"earlier " + name.encode() + bytes(range(256)))
    return snapshot(folder)


# ---- the writers under test, by name ------------------------------------------------------------

FILE_WRITERS = ("ply", "splat", "png", "mp4")


def _write(kind: str, result: ReconstructionResult, folder: Path) -> Path:
    """Write ``result`` the way ``kind`` does into ``folder`` with overwrite on; returns the target."""
    g = result.gaussians
    if kind == "ply":
        target = folder / "gaussians.ply"
        engine_export.export_ply(g, target)
    elif kind == "splat":
        target = folder / "head.splat"
        engine_export.export_splat(g, target)
    elif kind == "png":
        target = folder / "snapshot.png"
        assert result.input_image is not None
        save_png(result.input_image, target)
    elif kind == "mp4":
        target = folder / "turntable.mp4"
        noise = np.random.default_rng(0).integers(0, 255, (24, 96, 96, 3), dtype=np.uint8)
        write_video(iter(noise), target, fps=24)
    else:
        raise AssertionError(kind)
    return target


# ==============================================================================================
# 1. Output folder not writable
# ==============================================================================================


@pytest.mark.parametrize("kind", [*FILE_WRITERS, "views", "outputs"])
def test_engine_writers_refuse_an_unwritable_folder(tmp_path, monkeypatch, small_result, kind) -> None:
    folder = tmp_path / "dest"
    if kind == "views":
        names = [f"head_{i}_{n}.png" for i, n in enumerate(("front", "front_right", "right"))]
        before = _earlier(folder, *names)
        unwritable(monkeypatch, folder)
        with pytest.raises(OutputError) as info:
            gui_exports.export_views(small_result.views, folder, stem="head", overwrite=True)
        target = folder / names[0]
    elif kind == "outputs":
        before = _earlier(folder / "out", *OUTPUT_FILES)
        unwritable(monkeypatch, folder)
        with pytest.raises(OutputError) as info:
            write_outputs(small_result, folder / "out", turntable_frames=2, render_size=32, overwrite=True)
        target = folder / "out"
        before = {f"out/{k}": v for k, v in before.items()}
    else:
        before = _earlier(folder, {"ply": "gaussians.ply", "splat": "head.splat"}.get(kind, f"x.{kind}"))
        name = {"png": "snapshot.png", "mp4": "turntable.mp4"}.get(kind)
        if name:
            (folder / name).write_bytes(b"earlier")
            before = snapshot(folder)
        unwritable(monkeypatch, folder)
        with pytest.raises(OutputError) as info:
            target = _write(kind, small_result, folder)
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
    before = _earlier(ro, "x.png")
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
    before = _earlier(folder, name)
    hits = fault_while_writing(monkeypatch, folder, match, after)
    with pytest.raises(OutputError) as info:
        _write(kind, small_result, folder)
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
    before = _earlier(out, *OUTPUT_FILES)
    hits = fault_while_writing(monkeypatch, tmp_path, during, 3_000)
    with pytest.raises(OutputError) as info:
        write_outputs(small_result, out, turntable_frames=2, render_size=32, overwrite=True)
    monkeypatch.undo()
    assert hits
    message = str(info.value)
    assert_message(message, str(out / f"{during}."), NO_SPACE)
    assert ".partial-" not in message
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert_nothing_partial(tmp_path)


def _limit_ffmpeg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, blocks: int) -> None:
    """Every ffmpeg run (ours and imageio's, via IMAGEIO_FFMPEG_EXE) is the real ffmpeg whose
    writes fail after ``blocks`` x 512 bytes: ulimit -f with SIGXFSZ ignored makes write() fail
    with EFBIG in the middle of the frames, as a full disk makes it fail with ENOSPC."""
    import imageio_ffmpeg

    script = tmp_path / "ffmpeg-limited"
    real = imageio_ffmpeg.get_ffmpeg_exe()
    script.write_text(f"#!/bin/sh\ntrap '' XFSZ\nulimit -f {blocks}\nexec '{real}' \"$@\"\n")
    script.chmod(0o755)
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(script))


def test_engine_mp4_write_fails_mid_frames(tmp_path, monkeypatch, small_result) -> None:
    folder = tmp_path / "dest"
    before = _earlier(folder, "turntable.mp4")
    _limit_ffmpeg(monkeypatch, tmp_path, 8)
    with pytest.raises(OutputError) as info:
        _write("mp4", small_result, folder)
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
    before = _earlier(tmpfs, name)
    filler = fill(tmpfs, 8 * 1024)
    with pytest.raises(OutputError) as info:
        _write(kind, small_result, tmpfs)
    assert_message(str(info.value), str(tmpfs / name), NO_SPACE)
    filler.unlink()
    assert snapshot(tmpfs) == before
    assert_nothing_partial(tmpfs)


@pytest.mark.slow
def test_cli_reconstruct_into_a_real_full_tmpfs(tmpfs, astronaut_png) -> None:
    """`facelift reconstruct --overwrite` into a 1 MB tmpfs holding earlier outputs: the 50 MB
    gaussians.ply fills it; exit 2, one line naming it, earlier outputs intact, no staging left."""
    out = tmpfs / "astronaut"
    before = _earlier(out, *OUTPUT_FILES)
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
    before = _earlier(tmpfs, "x.png", "x.mp4")
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


# ==============================================================================================
# 3. Existing outputs without --overwrite
# ==============================================================================================


def test_write_outputs_refuses_existing_outputs(tmp_path, small_result) -> None:
    out = tmp_path / "out"
    before = _earlier(out, "gaussians.ply")
    with pytest.raises(OutputError) as info:
        write_outputs(small_result, out, turntable_frames=0, render_size=32)
    assert_message(str(info.value), str(out), "already exist", "gaussians.ply", "--overwrite")
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.parametrize("kind", ["ply", "splat", "png", "views"])
def test_gui_writers_refuse_existing_files_without_overwrite(tmp_path, small_result, kind) -> None:
    g = small_result.gaussians
    names = {"ply": ["a.ply"], "splat": ["a.splat"], "png": ["a.png"], "views": ["v_2_right.png"]}[kind]
    before = _earlier(tmp_path, *names)
    with pytest.raises(OutputError) as info:
        if kind == "ply":
            gui_exports.export_ply(g, tmp_path / "a.ply")
        elif kind == "splat":
            gui_exports.export_splat(g, tmp_path / "a.splat")
        elif kind == "png":
            gui_exports.export_png(small_result.views[0], tmp_path / "a.png")
        else:
            gui_exports.export_views(small_result.views, tmp_path, stem="v")
    assert_message(str(info.value), str(tmp_path / names[0]), "already exists")
    assert snapshot(tmp_path) == before  # and no other view was written


def test_cli_reconstruct_existing_outputs_single_and_batch(tmp_path, astronaut_png, capsys) -> None:
    out = tmp_path / "out"
    before = _earlier(out / "astronaut", "gaussians.ply", "output.png")
    # the only input: exit 2, refused before any model loads
    rc = cli.main(["reconstruct", str(astronaut_png), "-o", str(out), "--engine", "instant", "--frames", "0"])
    err = capsys.readouterr().err
    assert rc == 2
    errors = [ln for ln in err.splitlines() if ln.startswith("facelift: error:")]
    assert len(errors) == 1 and "Traceback" not in err
    assert_message(errors[0], str(out / "astronaut"), "already exist", "--overwrite")
    assert "using the" not in err
    assert snapshot(out / "astronaut") == before
    # a batch of two, both with earlier outputs: each refused in one line, exit 1, nothing loaded
    other = tmp_path / "second.png"
    shutil.copy(astronaut_png, other)
    before_other = _earlier(out / "second", "turntable.mp4")
    rc = cli.main(["reconstruct", str(astronaut_png), str(other), "-o", str(out), "--engine", "instant"])
    err = capsys.readouterr().err
    assert rc == 1, err
    assert "Traceback" not in err and "using the" not in err
    errors = [ln for ln in err.splitlines() if ln.startswith("facelift: error:")]
    assert len(errors) == 2, err
    assert_message(errors[0], str(out / "astronaut"), "already exist")
    assert_message(errors[1], str(out / "second"), "already exist")
    assert "2 of 2 inputs failed" in err
    assert snapshot(out / "astronaut") == before
    assert snapshot(out / "second") == before_other
    assert_nothing_partial(out)


@pytest.mark.parametrize("command", ["lrm", "multiview"])
def test_cli_lrm_and_multiview_refuse_existing_outputs(tmp_path, astronaut_png, capsys, command) -> None:
    """Refused before any model loads: the weights folder given is empty, yet the error is about
    the existing output."""
    empty_weights = tmp_path / "no-weights"
    empty_weights.mkdir()
    if command == "lrm":
        before = _earlier(tmp_path / "o", "head.ply")
        target = tmp_path / "o" / "head.ply"
        argv = ["lrm", *[str(astronaut_png)] * 6, "-o", str(target)]
    else:
        before = _earlier(tmp_path / "o", "right.png")
        target = tmp_path / "o" / "right.png"
        argv = ["multiview", str(astronaut_png), "-o", str(tmp_path / "o")]
    rc = cli.main([*argv, "--weights", str(empty_weights)])
    err = capsys.readouterr().err
    assert rc == 2, err
    errors = [ln for ln in err.splitlines() if ln.startswith("facelift: error:")]
    assert len(errors) == 1 and "Traceback" not in err, err
    assert_message(errors[0], str(target), "already exists", "--overwrite")
    assert snapshot(tmp_path / "o") == before


def test_cli_render_existing_output(tmp_path, small_result) -> None:
    good = tmp_path / "good.ply"
    save_ply(small_result.gaussians, good)
    before = _earlier(tmp_path / "o", "x.png")
    run = run_cli("render", good, "-o", tmp_path / "o" / "x.png", "--size", "32")
    assert_one_line_error(run, 2, str(tmp_path / "o" / "x.png"), "already exists", "--overwrite")
    assert snapshot(tmp_path / "o") == before


# ==============================================================================================
# 4. An export interrupted half-way
# ==============================================================================================


@pytest.mark.parametrize("why", sorted(INTERRUPTS))
@pytest.mark.parametrize(
    ("kind", "match", "after"),
    [("ply", "gaussians", 100_000), ("splat", "head", 50_000), ("png", "snapshot", 20_000)],
)
def test_engine_file_writers_interrupted_half_way(
    tmp_path, monkeypatch, small_result, why, kind, match, after
) -> None:
    folder = tmp_path / "dest"
    name = {"ply": "gaussians.ply", "splat": "head.splat", "png": "snapshot.png"}[kind]
    before = _earlier(folder, name)
    exc = INTERRUPTS[why]
    hits = fault_while_writing(monkeypatch, folder, match, after, exc)
    with pytest.raises(type(exc())):
        _write(kind, small_result, folder)
    monkeypatch.undo()
    assert hits
    assert snapshot(folder) == before
    assert_nothing_partial(tmp_path)


def _frames_then(exc: Callable[[], BaseException], count: int, size: int = 64) -> Iterator[np.ndarray]:
    rng = np.random.default_rng(1)
    for _ in range(count):
        yield rng.integers(0, 255, (size, size, 3), dtype=np.uint8)
    raise exc()


@pytest.mark.parametrize("why", sorted(INTERRUPTS))
def test_video_interrupted_between_frames(tmp_path, why) -> None:
    """ffmpeg has the first frames when the frame source fails: it is stopped, its file removed."""
    before = _earlier(tmp_path, "turntable.mp4")
    exc = INTERRUPTS[why]
    with pytest.raises(type(exc())):
        write_video(_frames_then(exc, 5), tmp_path / "turntable.mp4")
    assert snapshot(tmp_path) == before
    assert_nothing_partial(tmp_path)


def test_turntable_cancelled_half_way(tmp_path, small_result) -> None:
    from engine.io.export import write_turntable

    before = _earlier(tmp_path, "turntable.mp4")
    token = CancelToken()

    def on_progress(event) -> None:  # type: ignore[no-untyped-def]
        if event.stage == "turntable" and event.step == 3:
            token.cancel()

    with pytest.raises(Cancelled):
        write_turntable(
            small_result.gaussians,
            tmp_path / "turntable.mp4",
            num_frames=6,
            size=32,
            on_progress=on_progress,
            cancel=token,
        )
    assert snapshot(tmp_path) == before
    assert_nothing_partial(tmp_path)


@pytest.mark.parametrize("why", sorted(INTERRUPTS))
@pytest.mark.parametrize("during", ["gaussians", "output"])
def test_write_outputs_interrupted_in_staging(tmp_path, monkeypatch, small_result, why, during) -> None:
    out = tmp_path / "out"
    before = _earlier(out, *OUTPUT_FILES)
    exc = INTERRUPTS[why]
    hits = fault_while_writing(monkeypatch, tmp_path, during, 2_000, exc)
    with pytest.raises(type(exc())):
        write_outputs(small_result, out, turntable_frames=2, render_size=32, overwrite=True)
    monkeypatch.undo()
    assert hits
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no staging folder


@pytest.mark.parametrize("why", sorted(INTERRUPTS))
def test_views_export_interrupted_at_the_fourth_view(tmp_path, monkeypatch, small_result, why) -> None:
    names = [
        f"v_{i}_{n}.png"
        for i, n in enumerate(("front", "front_right", "right", "back", "left", "front_left"))
    ]
    before = _earlier(tmp_path, *names)
    exc = INTERRUPTS[why]
    hits = fault_while_writing(monkeypatch, tmp_path, "v_3_back", 100, exc)
    with pytest.raises(type(exc())):
        gui_exports.export_views(small_result.views, tmp_path, stem="v", overwrite=True)
    monkeypatch.undo()
    assert hits
    assert snapshot(tmp_path) == before  # the three views written before it were not renamed in
    assert_nothing_partial(tmp_path)


# ==============================================================================================
# 5. The GUI: exports into an unwritable or full folder, then a good export
# ==============================================================================================


def _gui_with(gui_window, result: ReconstructionResult, qtbot):  # type: ignore[no-untyped-def]
    window = gui_window()
    with qtbot.waitSignal(window.result_changed, timeout=5000):
        window.engine_worker.finished.emit(result)  # as the worker delivers a finished run
    return window


def _choose(monkeypatch, path: Path) -> list[object]:  # type: ignore[no-untyped-def]
    """The export dialogs: the Export dialog accepted as it opens, the save dialog answers ``path``;
    records the save dialog's options."""
    from PySide6.QtWidgets import QFileDialog

    from facelift_desktop.export_dialog import ExportDialog

    asked: list[object] = []

    def save_name(*args, **kwargs):  # type: ignore[no-untyped-def]
        asked.append(kwargs.get("options", args[4] if len(args) > 4 else None))
        return str(path), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_name)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(path))
    monkeypatch.setattr(ExportDialog, "exec", lambda self: 1)
    return asked


GUI_EXPORTS = {  # kind: (how the window is asked, file name, status word, bytes before a disk fault)
    "ply": ("export_ply_dialog", "gaussians.ply", "PLY", 200_000),
    "splat": ("export_splat_dialog", "head.splat", ".splat", 200_000),
    "spz": ("export_dialog:spz", "head.spz", "SPZ", 2_000),
    "compressed.ply": ("export_dialog:compressed.ply", "head.compressed.ply", "Compressed PLY", 20_000),
}


def _ask(window, slot: str) -> None:  # type: ignore[no-untyped-def]
    """Call ``slot`` ("export_ply_dialog") or open the Export dialog on a kind ("export_dialog:spz")."""
    name, _, kind = slot.partition(":")
    getattr(window, name)(*([kind] if kind else []))


@pytest.mark.parametrize("fault", ["unwritable", "disk-full"])
@pytest.mark.parametrize("kind", sorted(GUI_EXPORTS))
def test_gui_export_failure_then_a_good_export(
    gui_window, qtbot, tmp_path, monkeypatch, instant_result, kind, fault
) -> None:
    """The real instant result; Export PLY/.splat/SPZ/compressed PLY into a bad folder: "Export
    failed" with one line naming the file, nothing partial, the earlier file intact; then exporting
    elsewhere works."""
    window = _gui_with(gui_window, instant_result, qtbot)
    slot, name, what, after = GUI_EXPORTS[kind]
    bad = tmp_path / "bad"
    before = _earlier(bad, name)
    asked = _choose(monkeypatch, bad / name)
    hits: list[str] = []
    if fault == "unwritable":
        unwritable(monkeypatch, bad)
    else:
        hits = fault_while_writing(monkeypatch, bad, name.split(".")[0], after)
    _ask(window, slot)
    assert fault == "unwritable" or hits, "the disk fault never fired"
    dialog = window.last_failure_dialog
    assert dialog is not None and dialog.windowTitle() == "Export failed"
    assert_message(dialog.reason_label.text(), str(bad / name), DENIED if fault == "unwritable" else NO_SPACE)
    assert asked == [None]  # no options: Qt's save dialog asks before replacing a file
    monkeypatch.undo()
    assert snapshot(bad) == before
    assert_nothing_partial(tmp_path)
    # the app is still usable: the same export into a good folder works
    good = tmp_path / "good"
    good.mkdir()
    _choose(monkeypatch, good / name)
    window.last_failure_dialog = None
    with qtbot.waitSignal(window.export_done, timeout=10000):
        _ask(window, slot)
    assert window.last_failure_dialog is None
    assert f"Exported {what}" in window.status_message.text()
    assert (good / name).stat().st_size > 0
    assert_nothing_partial(good, allowed=(name,))


def test_gui_views_export_into_a_full_folder_then_a_good_one(
    gui_window, qtbot, tmp_path, monkeypatch, small_result
) -> None:
    window = _gui_with(gui_window, small_result, qtbot)
    assert window.export_views_action.isEnabled()
    bad = tmp_path / "bad"
    before = _earlier(bad, "head_0_front.png")
    _choose(monkeypatch, bad)
    from PySide6.QtWidgets import QMessageBox

    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    fault_while_writing(monkeypatch, bad, "head_2_right", 500)
    window.export_views_dialog()
    dialog = window.last_failure_dialog
    assert dialog is not None and dialog.windowTitle() == "Export failed"
    assert_message(dialog.reason_label.text(), str(bad / "head_2_right.png"), NO_SPACE)
    monkeypatch.undo()
    assert snapshot(bad) == before
    assert_nothing_partial(tmp_path)
    good = tmp_path / "good"
    good.mkdir()
    _choose(monkeypatch, good)
    with qtbot.waitSignal(window.export_done, timeout=10000):
        window.export_views_dialog()
    assert len(list(good.glob("head_*.png"))) == 6


def test_gui_views_dialog_asks_before_replacing(
    gui_window, qtbot, tmp_path, monkeypatch, small_result
) -> None:
    """Existing view files: the dialog asks; "No" leaves every file as it was."""
    from PySide6.QtWidgets import QMessageBox

    window = _gui_with(gui_window, small_result, qtbot)
    folder = tmp_path / "views"  # beside the window's settings file, which remembers the choice
    before = _earlier(folder, "head_0_front.png")
    _choose(monkeypatch, folder)
    asked: list[str] = []

    def answer(_parent, _title, text, *a, **k):  # type: ignore[no-untyped-def]
        asked.append(text)
        return QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "question", answer)
    window.export_views_dialog()
    assert asked and "1 view images already exist" in asked[0]
    assert snapshot(folder) == before


def test_gui_window_exports_refuse_existing_files(gui_window, qtbot, tmp_path, small_result) -> None:
    """The window's export methods (what the dialogs call after asking) keep overwrite off by default."""
    window = _gui_with(gui_window, small_result, qtbot)
    before = _earlier(tmp_path, "a.ply", "a.splat", "head_0_front.png")
    for call, name in (
        (lambda: window.export_ply(tmp_path / "a.ply"), "a.ply"),
        (lambda: window.export_splat(tmp_path / "a.splat"), "a.splat"),
        (lambda: window.export_views(tmp_path), "head_0_front.png"),
    ):
        with pytest.raises(OutputError) as info:
            call()
        assert_message(str(info.value), str(tmp_path / name), "already exists")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("fault", ["unwritable", "disk-full", "cancel"])
def test_gui_turntable_job_failure_leaves_nothing(qtbot, tmp_path, monkeypatch, small_result, fault) -> None:
    """The GUI's turntable writer (frames from a render callable; here the engine's renderer, since
    the test window has no GL view): a failure or a cancel half-way leaves the earlier file."""
    from engine.cameras import view_camera
    from engine.render import render, to_uint8
    from facelift_desktop.turntable import TurntableJob, TurntableSpec

    before = _earlier(tmp_path / "dest", "turntable.mp4")
    target = tmp_path / "dest" / "turntable.mp4"
    camera = view_camera("front", 48)
    frames: list[int] = []

    def frame(_azimuth: float, _elevation: float) -> np.ndarray:
        frames.append(1)
        if fault == "cancel" and len(frames) == 3:
            job.cancel()
        res = render(small_result.gaussians, camera.c2w[0], camera.fxfycxcy[0], 48, 48)
        noise = np.random.default_rng(len(frames)).integers(0, 60, (48, 48, 3))
        return np.clip(to_uint8(res.rgb).astype(int) + noise, 0, 255).astype(np.uint8)

    if fault == "unwritable":
        unwritable(monkeypatch, tmp_path / "dest")
    elif fault == "disk-full":
        _limit_ffmpeg(monkeypatch, tmp_path, 4)
    job = TurntableJob(frame, TurntableSpec(target, frames=12, fps=12, size=48, overwrite=True))
    outcome: list[object] = []
    job.failed.connect(lambda f: outcome.append(f))
    job.cancelled.connect(lambda: outcome.append("cancelled"))
    job.finished.connect(lambda p: outcome.append(p))
    job.start()
    qtbot.waitUntil(lambda: bool(outcome), timeout=20000)
    monkeypatch.undo()
    if fault == "cancel":
        assert outcome == ["cancelled"]
    else:
        failure = outcome[0]
        assert not isinstance(failure, (str, Path))
        problem = DENIED if fault == "unwritable" else "ffmpeg could not encode the video"
        assert_message(failure.reason, str(target), problem)  # type: ignore[union-attr]
    assert snapshot(tmp_path / "dest") == before
    assert_nothing_partial(tmp_path)


@pytest.mark.gl
def test_gui_png_and_turntable_exports_with_the_gl_view(
    gui_window, qtbot, tmp_path, monkeypatch, small_result
) -> None:
    """The real window with its VisPy view (Xvfb): Export PNG and Export turntable into an
    unwritable folder and a full one show "Export failed" naming the file and leave nothing;
    the same exports into a good folder then work."""
    from viewer.canvas import configure_vispy

    configure_vispy()
    window = gui_window(use_gl=True)
    ply = tmp_path / "head.ply"
    save_ply(small_result.gaussians, ply)
    assert window.open_gaussians(ply)
    count = len(small_result.gaussians)
    qtbot.waitUntil(lambda: getattr(window.viewport.stats(), "total", 0) == count, timeout=10000)
    assert window.count_label.text().startswith(f"Gaussians: {count:,}")
    settings = window.settings.export_settings()
    settings.video_frames, settings.video_size, settings.video_fps = 8, 128, 8
    window.settings.set_export_settings(settings)
    bad = tmp_path / "bad"
    before = _earlier(bad, "head_view.png", "head_turntable.mp4")

    refused: list[str] = []

    def export(kind: str, folder: Path) -> None:
        name = "head_view.png" if kind == "png" else "head_turntable.mp4"
        _choose(monkeypatch, folder / name)
        window.last_failure_dialog = None
        if kind == "png":
            window.export_png_dialog()
        else:
            window.export_turntable_dialog()
            if window.turntable_job is not None and window.turntable_job.running:
                assert not window.open_gaussians(ply)  # the export renders the scene: it stays
                assert "turntable export is running" in window.status_message.text()
                refused.append(kind)
            qtbot.waitUntil(
                lambda: window.turntable_job is not None and not window.turntable_job.running, timeout=30000
            )

    for kind in ("png", "mp4"):
        for fault in ("unwritable", "disk-full"):
            if fault == "unwritable":
                unwritable(monkeypatch, bad)
            elif kind == "png":
                fault_while_writing(monkeypatch, bad, "head_view", 2_000)
            else:
                _limit_ffmpeg(monkeypatch, tmp_path, 4)
            export(kind, bad)
            monkeypatch.undo()
            dialog = window.last_failure_dialog
            assert dialog is not None and dialog.windowTitle() == "Export failed", (kind, fault)
            name = "head_view.png" if kind == "png" else "head_turntable.mp4"
            problem = {
                "unwritable": DENIED,
                "disk-full": NO_SPACE if kind == "png" else "ffmpeg could not encode",
            }
            assert_message(dialog.reason_label.text(), str(bad / name), problem[fault])
            assert snapshot(bad) == before, (kind, fault)
            assert_nothing_partial(tmp_path)
    good = tmp_path / "good"
    good.mkdir()
    export("png", good)
    export("mp4", good)
    assert window.last_failure_dialog is None
    assert sorted(p.name for p in good.iterdir()) == ["head_turntable.mp4", "head_view.png"]
    assert refused, "no turntable export was seen running"


def _encoding(folder: Path) -> bool:
    """The encoder has started: a temporary ``.x.tmp-*`` video in ``folder`` holds its header."""
    return any(p.stat().st_size > 0 for p in folder.glob(".x.tmp-*") if p.is_file())


@pytest.mark.slow
def test_cli_ctrl_c_during_a_turntable_render(tmp_path, small_result) -> None:
    """A real Ctrl+C (SIGINT to the whole process group, ffmpeg included) while `facelift render`
    encodes: "facelift: interrupted", exit 130, no traceback, the earlier video intact."""
    import signal
    import time

    from reliability_harness import REPO

    good = tmp_path / "good.ply"
    save_ply(small_result.gaussians, good)
    out = tmp_path / "o" / "x.mp4"
    before = _earlier(out.parent, "x.mp4")
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONIOENCODING": "utf-8"}
    argv = [sys.executable, "-m", "engine.cli", "render", str(good), "-o", str(out), "--overwrite"]
    proc = subprocess.Popen(
        [*argv, "--frames", "600", "--size", "64"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=str(REPO),
        start_new_session=True,
    )
    try:
        # Interrupt once the encoder has written its header into the temporary file: from then
        # on frames are being rendered and pushed into it (a guessed delay raced the render).
        deadline = time.monotonic() + 60
        while not _encoding(out.parent) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None, "render finished before it could be interrupted"
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    text = err.decode("utf-8", "replace")
    assert proc.returncode == 130, text
    assert "Traceback" not in text
    assert "facelift: interrupted" in text
    assert snapshot(out.parent) == before
    assert_nothing_partial(tmp_path)
