"""`facelift multiview`: the six views of the conformance run, cancel, one-line errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.api import Cancelled, CancelToken, ProgressEvent
from engine.cli import main
from engine.mvdiffusion import pipeline as mvpipe
from engine.mvdiffusion.pipeline import MultiViewDiffusion

VIEW_FILES = ["front", "front_right", "right", "back", "left", "front_left"]


def _close(a: np.ndarray, b: np.ndarray) -> None:
    """Within one grey level, and at most 0.1 % of the values off at all (fixtures README §4)."""
    diff = np.abs(a.astype(int) - b.astype(int))
    assert diff.max() <= 1 and (diff > 0).mean() <= 0.001


def _multiview(run_dir: Path, out: Path, weights: Path, *options: str) -> int:
    """``facelift multiview`` on the conformance run's input.png, writing to ``out``, with the
    weights folder ``weights``, the extra ``options`` and no preprocessing; its exit code."""
    argv = ["multiview", str(run_dir / "input.png"), "-o", str(out), "--weights", str(weights)]
    return main([*argv, *options, "--no-preprocess"])


def test_multiview_command_writes_all_views(conformance_dir, run_dir, expected_views, tmp_path) -> None:
    out = tmp_path / "out"
    assert _multiview(run_dir, out, conformance_dir, "--steps", "3") == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"{n}.png" for n in VIEW_FILES] + ["multiview.png"]
    )
    views = np.stack([np.asarray(Image.open(out / f"{n}.png")) for n in VIEW_FILES])
    _close(views, expected_views)
    strip = np.asarray(Image.open(out / "multiview.png"))
    assert strip.shape == (64, 6 * 64, 3)
    assert np.array_equal(strip, np.concatenate(list(views), axis=1))


def test_cancelled_command_writes_nothing(conformance_dir, run_dir, tmp_path, monkeypatch, capsys) -> None:
    real_generate = MultiViewDiffusion.generate

    def generate_then_cancel(self, image, **kwargs):
        token = CancelToken()
        outer = kwargs.pop("on_progress")

        def on_progress(event: ProgressEvent) -> None:
            outer(event)
            if event.step == 1:
                token.cancel()

        return real_generate(self, image, on_progress=on_progress, cancel=token, **kwargs)

    monkeypatch.setattr(mvpipe.MultiViewDiffusion, "generate", generate_then_cancel)
    out = tmp_path / "out"
    assert _multiview(run_dir, out, conformance_dir, "--steps", "3") == Cancelled.exit_code
    assert not out.exists() or list(out.iterdir()) == []
    assert "cancelled" in capsys.readouterr().err


def test_command_errors_are_one_line(conformance_dir, run_dir, tmp_path, capsys) -> None:
    broken = tmp_path / "w"
    shutil.copytree(conformance_dir / "mvdiffusion", broken / "mvdiffusion")
    shutil.rmtree(broken / "mvdiffusion" / "pipeckpts" / "scheduler")
    code = _multiview(run_dir, tmp_path / "o", broken)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert str(broken / "mvdiffusion" / "pipeckpts" / "scheduler") in err[0]
    code = main(["multiview", str(tmp_path / "nope.png"), "-o", str(tmp_path / "o"), "--no-preprocess"])
    assert code == 2 and "nope.png" in capsys.readouterr().err


def test_fast_sampler_takes_its_own_steps_and_gives_other_views(
    conformance_dir, run_dir, expected_views, tmp_path, capsys
) -> None:
    out = tmp_path / "out"
    assert _multiview(run_dir, out, conformance_dir, "--sampler", "fast") == 0
    assert "denoising step 20/20" in capsys.readouterr().err  # the fast sampler's own 20 steps
    views = np.stack([np.asarray(Image.open(out / f"{n}.png")) for n in VIEW_FILES])
    assert np.abs(views.astype(int) - expected_views.astype(int)).mean() > 1.0, "not the reference's views"
    with pytest.raises(SystemExit) as info:
        main(["multiview", str(run_dir / "input.png"), "-o", str(out), "--sampler", "ddpm"])
    assert info.value.code == 2 and "invalid choice: 'ddpm'" in capsys.readouterr().err


def test_a_four_view_models_names_and_framing(conformance_dir, tmp_path, monkeypatch, capsys) -> None:
    """A model folder with four named views that frames objects: its view names are the files
    and messages, and the photo is framed as an object (no face detection) unless told otherwise."""
    from model_folders import n_view_model

    import engine.preprocess.prepare as prepare

    def no_face(*args, **kwargs):
        raise AssertionError("face detection ran")

    monkeypatch.setattr(prepare, "find_face", no_face)
    names = ["nose", "left_flank", "tail", "right_flank"]
    model = n_view_model(tmp_path / "rig", conformance_dir, names, framing="object")
    photo = tmp_path / "mouse.png"
    subject = np.zeros((240, 320, 4), np.uint8)
    subject[60:180, 80:260] = (120, 80, 40, 255)
    Image.fromarray(subject).save(photo)
    out = tmp_path / "out"
    argv = ["multiview", str(photo), "-o", str(out), "--weights", str(model), "--steps", "3"]
    assert main(argv) == 0
    printed = capsys.readouterr().out.split()
    assert printed == [str(out / f"{n}.png") for n in [*names, "multiview"]]
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{n}.png" for n in [*names, "multiview"])
    strip = np.asarray(Image.open(out / "multiview.png"))
    assert strip.shape == (64, 4 * 64, 3)
    assert main(argv) == 2  # the model's first view is refused, by its name
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(out / "nose.png") in err[0]
    monkeypatch.undo()
    assert main([*argv, "-o", str(tmp_path / "face"), "--framing", "face"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no face found" in err[0]
