"""Outputs rows of the reliability matrix (issue 9), part 2: existing outputs without --overwrite,
and an export interrupted half-way (an error, Ctrl+C, a cancel) -- through the engine API and the
CLI: one line naming the file, nothing partial left, an earlier file byte-identical."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from outputs_cases import (
    INTERRUPTS,
    earlier,
    fault_while_writing,
    snapshot,
    write_kind,
)
from reliability_harness import assert_message, assert_nothing_partial, assert_one_line_error, run_cli

from engine import cli
from engine.api import Cancelled, CancelToken, OutputError
from engine.io.ply import save_ply
from engine.io.video import write_video
from engine.outputs import OUTPUT_FILES, OutputSpec, write_outputs
from facelift_desktop import exports as gui_exports

# ==============================================================================================
# 3. Existing outputs without --overwrite
# ==============================================================================================


def test_write_outputs_refuses_existing_outputs(tmp_path, small_result) -> None:
    out = tmp_path / "out"
    before = earlier(out, "gaussians.ply")
    with pytest.raises(OutputError) as info:
        write_outputs(small_result, out, OutputSpec(turntable_frames=0, render_size=32))
    assert_message(str(info.value), str(out), "already exist", "gaussians.ply", "--overwrite")
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.parametrize("kind", ["ply", "splat", "png", "views"])
def test_gui_writers_refuse_existing_files_without_overwrite(tmp_path, small_result, kind) -> None:
    g = small_result.gaussians
    names = {"ply": ["a.ply"], "splat": ["a.splat"], "png": ["a.png"], "views": ["v_2_right.png"]}[kind]
    before = earlier(tmp_path, *names)
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
    before = earlier(out / "astronaut", "gaussians.ply", "output.png")
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
    before_other = earlier(out / "second", "turntable.mp4")
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
        before = earlier(tmp_path / "o", "head.ply")
        target = tmp_path / "o" / "head.ply"
        argv = ["lrm", *[str(astronaut_png)] * 6, "-o", str(target)]
    else:
        before = earlier(tmp_path / "o", "right.png")
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
    before = earlier(tmp_path / "o", "x.png")
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
    before = earlier(folder, name)
    exc = INTERRUPTS[why]
    hits = fault_while_writing(monkeypatch, folder, match, after, exc)
    with pytest.raises(type(exc())):
        write_kind(kind, small_result, folder)
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
    before = earlier(tmp_path, "turntable.mp4")
    exc = INTERRUPTS[why]
    with pytest.raises(type(exc())):
        write_video(_frames_then(exc, 5), tmp_path / "turntable.mp4")
    assert snapshot(tmp_path) == before
    assert_nothing_partial(tmp_path)


def test_turntable_cancelled_half_way(tmp_path, small_result) -> None:
    from engine.io.export import write_turntable

    before = earlier(tmp_path, "turntable.mp4")
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
    before = earlier(out, *OUTPUT_FILES)
    exc = INTERRUPTS[why]
    hits = fault_while_writing(monkeypatch, tmp_path, during, 2_000, exc)
    with pytest.raises(type(exc())):
        write_outputs(small_result, out, OutputSpec(turntable_frames=2, render_size=32), overwrite=True)
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
    before = earlier(tmp_path, *names)
    exc = INTERRUPTS[why]
    hits = fault_while_writing(monkeypatch, tmp_path, "v_3_back", 100, exc)
    with pytest.raises(type(exc())):
        gui_exports.export_views(small_result.views, tmp_path, stem="v", overwrite=True)
    monkeypatch.undo()
    assert hits
    assert snapshot(tmp_path) == before  # the three views written before it were not renamed in
    assert_nothing_partial(tmp_path)


def _encoding(folder: Path) -> bool:
    """The encoder has started: a temporary ``.x.tmp-*`` video in ``folder`` holds its header."""
    return any(p.stat().st_size > 0 for p in folder.glob(".x.tmp-*") if p.is_file())


@pytest.mark.slow
def test_cli_ctrl_c_during_a_turntable_render(tmp_path, small_result) -> None:
    """A real Ctrl+C (SIGINT to the whole process group, ffmpeg included) while `facelift render`
    encodes: "facelift: interrupted", exit 130, no traceback, the earlier video intact."""
    import signal
    import time

    from reliability_harness import start_cli_as_terminal_job

    good = tmp_path / "good.ply"
    save_ply(small_result.gaussians, good)
    out = tmp_path / "o" / "x.mp4"
    before = earlier(out.parent, "x.mp4")
    args = ["render", str(good), "-o", str(out), "--overwrite", "--frames", "600", "--size", "64"]
    proc = start_cli_as_terminal_job(args, stdout=subprocess.PIPE)
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
