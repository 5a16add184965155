"""`facelift reconstruct`: the tiny FaceLift pipeline end to end, the instant fallback, batches."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.cli import main

REPO = Path(__file__).resolve().parents[2]
PHOTO = REPO / "resources" / "samples" / "astronaut.png"


FULL_SET = [
    ".facelift-complete.json",
    "gaussians.ply",
    "input.png",
    "multiview.png",
    "output.png",
    "turntable.mp4",
]
FAST = ["--steps", "3", "--size", "64"]  # the machine is small: few diffusion steps, small renders
INSTANT_SET = [".facelift-complete.json", "gaussians.ply", "input.png", "output.png", "turntable.mp4"]


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _png(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def _frames(path: Path) -> list[np.ndarray]:
    import imageio.v2 as imageio

    with imageio.get_reader(path, "ffmpeg") as reader:
        return list(reader.iter_data())


@pytest.mark.slow
def test_tiny_facelift_pipeline_end_to_end(tmp_path, conformance_dir, no_weights, capsys):
    from engine.io.ply import load_ply

    out = tmp_path / "out"
    code = main(
        ["reconstruct", str(PHOTO), "-o", str(out), "--weights", str(conformance_dir), *FAST, "--frames", "3"]
    )
    err = capsys.readouterr().err
    assert code == 0, err
    assert "FaceLift engine" in err
    head = out / "astronaut"
    assert _names(head) == FULL_SET
    assert _png(head / "input.png").shape == (512, 512, 3)
    assert _png(head / "multiview.png").shape == (64, 6 * 64, 3)  # six 64x64 views of the tiny model
    assert _png(head / "output.png").shape == (64, 6 * 64, 3)  # --size 64
    g = load_ply(head / "gaussians.ply")
    assert 0 < len(g) < 2 + 6 * 64 * 64
    frames = _frames(head / "turntable.mp4")
    assert len(frames) == 3 and frames[0].shape == (64, 64, 3)
    assert _names(out) == ["astronaut"]  # no staging folders left behind


@pytest.mark.slow
def test_without_weights_the_instant_engine_runs(tmp_path, no_weights, capsys):
    out = tmp_path / "out"
    assert main(["reconstruct", str(PHOTO), "-o", str(out), *FAST, "--frames", "2"]) == 0
    err = capsys.readouterr().err
    assert "instant engine" in err and "no FaceLift weights found" in err
    assert _names(out / "astronaut") == INSTANT_SET
    assert len(_frames(out / "astronaut" / "turntable.mp4")) == 2


@pytest.mark.slow
def test_batch_with_a_bad_file_then_refuses_to_overwrite(tmp_path, conformance_dir, no_weights, capsys):
    """A bad file fails alone (exit 1, one line); a rerun without --overwrite keeps the outputs."""
    photos = tmp_path / "photos"
    photos.mkdir()
    shutil.copy(PHOTO, photos / "a.PNG")
    (photos / "b_broken.jpg").write_bytes(b"this is not a jpeg")
    (photos / "notes.txt").write_text("not an image, not an input")
    out = tmp_path / "out"
    args = [
        "reconstruct",
        str(photos),
        "-o",
        str(out),
        "--weights",
        str(conformance_dir),
        *FAST,
        "--frames",
        "2",
    ]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert _names(out) == ["a"]
    assert _names(out / "a") == FULL_SET
    assert len(_frames(out / "a" / "turntable.mp4")) == 2
    bad = [ln for ln in err.splitlines() if ln.startswith("facelift: error:")]
    assert len(bad) == 1 and "b_broken.jpg" in bad[0]
    assert "1 of 2 inputs failed" in err

    before = {p.name: p.stat().st_mtime_ns for p in (out / "a").iterdir()}
    assert main(args) == 1
    err = capsys.readouterr().err
    refused = [ln for ln in err.splitlines() if "already exist" in ln]
    assert len(refused) == 1 and "--overwrite" in refused[0] and str(out / "a") in refused[0]
    assert {p.name: p.stat().st_mtime_ns for p in (out / "a").iterdir()} == before
    # a single input whose outputs exist: exit 2, before any work
    assert main(["reconstruct", str(photos / "a.PNG"), "-o", str(out)]) == 2
    assert {p.name: p.stat().st_mtime_ns for p in (out / "a").iterdir()} == before


def test_folder_inputs_sorted_by_name_case_insensitive_suffix(tmp_path):
    from engine.commands.reconstruct import collect_inputs

    for name in ("b.JPEG", "a.png", "c.webp", "d.txt", "e.Jpg"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub.png").mkdir()
    images, problems = collect_inputs([tmp_path, tmp_path / "missing.png"])
    assert [p.name for p in images] == ["a.png", "b.JPEG", "c.webp", "e.Jpg"]
    assert [p.name for p, _ in problems] == ["missing.png"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "no images" in collect_inputs([empty])[1][0][1]


def test_only_input_missing_is_exit_2(tmp_path, no_weights, capsys):
    assert main(["reconstruct", str(tmp_path / "nope.jpg"), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "nope.jpg: no such file or folder" in err
    assert not (tmp_path / "out").exists()


def test_bad_weights_stop_with_exit_2(tmp_path, conformance_dir, no_weights, capsys):
    broken = tmp_path / "w"
    shutil.copytree(conformance_dir / "mvdiffusion" / "pipeckpts", broken / "mvdiffusion" / "pipeckpts")
    shutil.rmtree(broken / "mvdiffusion" / "pipeckpts" / "unet")
    (broken / "gslrm").mkdir()
    shutil.copy(conformance_dir / "gslrm" / "ckpt_0000000000000000.pt", broken / "gslrm")
    out = tmp_path / "out"
    assert main(["reconstruct", str(PHOTO), "-o", str(out), "--weights", str(broken)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("facelift: error:") and "unet" in err[-1]
    assert not out.exists() or _names(out) == []


def test_facelift_engine_without_weights_is_exit_2(tmp_path, no_weights, capsys):
    assert main(["reconstruct", str(PHOTO), "-o", str(tmp_path / "o"), "--engine", "facelift"]) == 2
    assert "no FaceLift weights found" in capsys.readouterr().err


def test_reference_flags_are_accepted(tmp_path, monkeypatch):
    """FaceLift's inference.py flags: `facelift -i DIR -o DIR --guidance_scale_2D ...`."""
    import engine.commands.reconstruct as cmd

    seen = {}
    monkeypatch.setattr(cmd, "run", lambda args: seen.update(vars(args)) or 0)
    args = [
        "-i",
        "in",
        "-o",
        "out",
        "--guidance_scale_2D",
        "2.5",
        "--step_2D",
        "7",
        "--seed",
        "3",
        "--auto_crop",
    ]
    assert main(args) == 0
    assert seen["input_dir"] == [Path("in")] and seen["output"] == Path("out")
    assert (seen["guidance_scale"], seen["num_steps"], seen["seed"], seen["auto_crop"]) == (2.5, 7, 3, True)
    assert main(["reconstruct", "x.png", "-o", "o", "--no-auto-crop"]) == 0
    assert seen["auto_crop"] is False and seen["inputs"] == [Path("x.png")] and seen["frames"] == 150


def test_option_conflicts_are_refused(tmp_path):
    with pytest.raises(SystemExit) as info:
        main(["reconstruct", str(PHOTO), "-o", str(tmp_path), "--no-auto-crop", "--no-preprocess"])
    assert info.value.code == 2


def test_output_names_for_duplicate_stems():
    from engine.commands.reconstruct import output_names

    names = output_names([Path("x/a.png"), Path("y/a.jpg"), Path("b.png"), Path("a.b.png")])
    assert names == ["a_png", "a_jpg", "b", "a.b"]


@pytest.mark.slow
def test_a_new_users_first_facelift_run_prints_only_our_lines(tmp_path, conformance_dir):
    """A fresh HOME (empty Hugging Face cache), a fresh process: stderr holds our progress and
    'facelift:' lines only -- no library's one-time cache-migration notice or stray progress bar."""
    import os
    import subprocess
    import sys

    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "PYTHONPATH": str(REPO), "PYTHONIOENCODING": "utf-8"}
    for name in ("FACELIFT_WEIGHTS", "XDG_CACHE_HOME", "HF_HOME", "HF_HUB_CACHE", "TRANSFORMERS_CACHE"):
        env.pop(name, None)
    args = ["reconstruct", str(PHOTO), "-o", str(tmp_path / "out"), "--weights", str(conformance_dir)]
    run = subprocess.run(
        [sys.executable, "-m", "engine.cli", *args, "--steps", "1", "--size", "16", "--frames", "0"],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(tmp_path),
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    lines = [ln.strip() for ln in run.stderr.replace("\r", "\n").splitlines() if ln.strip()]
    # our lines: 'facelift: ...', the photo's result line, the batch progress bar (photos/s)
    ours = [
        ln
        for ln in lines
        if ln.startswith(("facelift:", str(PHOTO))) or ("photo/s]" in ln or "s/photo]" in ln)
    ]
    assert lines == ours, [ln for ln in lines if ln not in ours]
