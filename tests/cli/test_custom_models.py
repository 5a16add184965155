"""Bring your own FaceLift (issue 19): a self-describing model folder (cameras, views,
facelift-model.json) used by `facelift reconstruct`, object framing, broken folders."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from camera_rigs import orbit_rig, write_cameras_json
from PIL import Image

from engine.cli import main
from engine.geometry import VIEW_AZIMUTHS

FAST = ["--steps", "3", "--size", "64", "--frames", "0"]
CUSTOM_ELEVATION, CUSTOM_RADIUS = 15.0, 2.2


def make_subject(path: Path, size: tuple[int, int] = (640, 480)) -> Path:
    """An RGBA photo of a non-face subject: a brown body (ellipse) with a tail, off-centre on
    a transparent background. Its box: x 150..451, y 120..281 (the tail reaches x 451)."""
    from PIL import ImageDraw

    im = Image.new("RGBA", size, (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    d.ellipse((150, 140, 390, 281), fill=(120, 80, 40, 255))
    d.ellipse((330, 120, 400, 190), fill=(150, 100, 60, 255))  # head
    d.rectangle((380, 250, 451, 258), fill=(90, 60, 30, 255))  # tail
    im.save(path)
    return path


def model_folder(tmp_path: Path, conformance_dir: Path, name: str = "model") -> Path:
    """The tiny conformance weights in a new folder (symlinked), to add override files to."""
    root = tmp_path / name
    root.mkdir()
    for part in ("gslrm", "mvdiffusion"):
        (root / part).symlink_to(conformance_dir / part, target_is_directory=True)
    return root


def custom_rig():
    return orbit_rig(VIEW_AZIMUTHS, CUSTOM_ELEVATION, CUSTOM_RADIUS)


def _one_line_error(capsys, argv: list[str], code: int = 2) -> str:
    assert main(argv) == code
    err = capsys.readouterr().err.strip().splitlines()
    lines = [line for line in err if line.startswith("facelift: error: ")]
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture()
def no_face_detection(monkeypatch):
    """Any use of the face detector fails the test."""
    import engine.preprocess.prepare as prepare

    def forbidden(*args, **kwargs):
        raise AssertionError("face detection ran")

    monkeypatch.setattr(prepare, "find_face", forbidden)


@pytest.mark.slow
def test_reconstruct_uses_the_model_folders_cameras(tmp_path, conformance_dir, no_face_detection, capsys):
    from engine.gslrm.reconstructor import GSLRMReconstructor
    from engine.io.images import resize_square
    from engine.io.ply import load_ply
    from engine.mvdiffusion.pipeline import MultiViewDiffusion
    from engine.preprocess import preprocess_photo

    photo = make_subject(tmp_path / "mouse.png")
    model = model_folder(tmp_path, conformance_dir)
    write_cameras_json(model / "opencv_cameras.json", custom_rig())
    custom, default = tmp_path / "custom", tmp_path / "default"
    base = [str(photo), "--framing", "object", "--device", "cpu", *FAST]
    assert main(["reconstruct", *base, "-o", str(custom), "--weights", str(model)]) == 0, capsys.readouterr()
    assert main(["reconstruct", *base, "-o", str(default), "--weights", str(conformance_dir)]) == 0
    got = load_ply(custom / "mouse" / "gaussians.ply")

    # The library, the same cameras given explicitly.
    prepared = preprocess_photo(photo, framing="object")
    mv = MultiViewDiffusion.from_weights(conformance_dir, device="cpu")
    views = mv.generate(resize_square(prepared.image, mv.resolution), seed=4, guidance_scale=3.0, num_steps=3)
    lrm = GSLRMReconstructor.from_weights(conformance_dir, device="cpu")
    want = lrm.reconstruct(views, custom_rig(), apply_filter=True)
    assert len(got) == len(want)
    np.testing.assert_allclose(got.xyz, want.xyz, atol=1e-5)
    np.testing.assert_allclose(got.sh_dc, want.sh_dc, atol=1e-5)

    released = load_ply(default / "mouse" / "gaussians.ply")
    assert len(released) != len(got) or not np.allclose(released.xyz, got.xyz, atol=1e-3)
    # output.png renders from the folder's cameras too
    assert (custom / "mouse" / "output.png").read_bytes() != (default / "mouse" / "output.png").read_bytes()


def _subject_box(image: np.ndarray) -> tuple[float, float, float, float]:
    ys, xs = np.nonzero((image < 250).any(axis=2))
    return xs.min(), ys.min(), xs.max() + 1.0, ys.max() + 1.0


@pytest.mark.slow
def test_object_framing_reconstructs_a_non_face_subject(tmp_path, conformance_dir, no_face_detection, capsys):
    photo = make_subject(tmp_path / "mouse.png")
    out = tmp_path / "out"
    argv = ["reconstruct", str(photo), "-o", str(out), "--weights", str(conformance_dir)]
    assert main([*argv, "--framing", "object", "--device", "cpu", *FAST]) == 0, capsys.readouterr().err
    image = np.asarray(Image.open(out / "mouse" / "input.png").convert("RGB"))
    x0, y0, x1, y1 = _subject_box(image)
    assert abs(max(x1 - x0, y1 - y0) - 0.6 * 512) <= 0.02 * 0.6 * 512
    assert abs((x0 + x1) / 2 - 256) <= 4 and abs((y0 + y1) / 2 - 256) <= 4


def test_face_framing_on_a_non_face_subject_is_the_usual_error(tmp_path, conformance_dir, capsys):
    photo = make_subject(tmp_path / "mouse.png")
    argv = ["reconstruct", str(photo), "-o", str(tmp_path / "out"), "--weights", str(conformance_dir)]
    err = _one_line_error(capsys, [*argv, "--framing", "face", *FAST])
    assert "mouse.png: no face found" in err
    assert not (tmp_path / "out" / "mouse").exists()


def test_the_model_folders_framing_is_the_default(tmp_path, conformance_dir, capsys):
    """facelift-model.json says object framing: no --framing needed for a non-face subject."""
    model = model_folder(tmp_path, conformance_dir)
    (model / "facelift-model.json").write_text(
        json.dumps({"name": "Mouse", "framing": "object", "target_ratio": 0.5})
    )
    photo = make_subject(tmp_path / "mouse.png")
    out = tmp_path / "out"
    argv = ["reconstruct", str(photo), "-o", str(out), "--weights", str(model), "--engine", "facelift"]
    assert main([*argv, "--device", "cpu", "--steps", "1", "--size", "16", "--frames", "0"]) == 0
    assert (out / "mouse" / "gaussians.ply").is_file()
    x0, y0, x1, y1 = _subject_box(np.asarray(Image.open(out / "mouse" / "input.png").convert("RGB")))
    assert abs(max(x1 - x0, y1 - y0) - 0.5 * 512) <= 0.02 * 0.5 * 512  # the folder's target_ratio


def _broken(tmp_path: Path, conformance_dir: Path, kind: str) -> tuple[Path, str]:
    model = model_folder(tmp_path, conformance_dir, kind)
    if kind == "bad-cameras":
        (model / "opencv_cameras.json").write_text('{"frames": [{"w": 512, "h": 512}]')
        return model, "opencv_cameras.json"
    if kind == "view-count":
        rig = orbit_rig(np.linspace(0.0, 360.0, 4, endpoint=False), 0.0, 2.7)
        write_cameras_json(model / "opencv_cameras.json", rig)
        return model, "opencv_cameras.json: 4 cameras, but the prompt embeddings"
    (model / "facelift-model.json").write_text(json.dumps({"framing": "statue"}))
    return model, "facelift-model.json: unknown framing mode 'statue'"


@pytest.mark.parametrize("kind", ["bad-cameras", "view-count", "unknown-framing"])
def test_broken_model_folders_are_one_line_errors_before_anything_runs(
    tmp_path, conformance_dir, capsys, monkeypatch, kind
):
    from engine.engines.base import RunContext

    def no_preprocess(*args, **kwargs):
        raise AssertionError("the run started")

    monkeypatch.setattr(RunContext, "prepare", no_preprocess)
    model, expected = _broken(tmp_path, conformance_dir, kind)
    photo = make_subject(tmp_path / "mouse.png")
    out = tmp_path / "out"
    err = _one_line_error(
        capsys,
        ["reconstruct", str(photo), "-o", str(out), "--weights", str(model), "--engine", "facelift", *FAST],
    )
    assert expected in err and str(model) in err
    assert not out.exists() or not any(out.iterdir())

    # `facelift weights verify` names the same problem
    assert main(["weights", "verify", "--dir", str(model)]) == 2
    assert expected in capsys.readouterr().out


def test_weights_verify_reports_the_overrides(tmp_path, conformance_dir, capsys):
    model = model_folder(tmp_path, conformance_dir)
    write_cameras_json(model / "opencv_cameras.json", custom_rig())
    (model / "facelift-model.json").write_text(
        json.dumps({"name": "Mouse rig", "licence": "CC BY-NC 4.0", "framing": "object", "target_ratio": 0.5})
    )
    assert main(["weights", "verify", "--dir", str(model)]) == 0
    out = capsys.readouterr().out
    assert f"cameras (6 views): {model / 'opencv_cameras.json'}" in out
    assert f"model description: {model / 'facelift-model.json'}" in out
    assert "framing object (target_ratio 0.5)" in out
    assert "Mouse rig: 6 views (view_1, view_2, view_3, view_4, view_5, view_6), framing object" in out


def test_output_png_and_the_turntable_follow_the_models_cameras(tmp_path, conformance_dir, monkeypatch):
    """A result carrying a model folder's cameras: output.png is rendered from them and the
    turntable orbits at their radius (2.2 here, not FaceLift's 2.7)."""
    import engine.io.export as export
    from engine.api import ReconstructionResult
    from engine.io.ply import load_ply
    from engine.outputs import OutputSpec, render_input_views, side_by_side, write_outputs

    radii: list[float] = []
    real = export.write_turntable

    def spy(*args, **kwargs):
        radii.append(kwargs["radius"])
        return real(*args, **kwargs)

    monkeypatch.setattr(export, "write_turntable", spy)
    g = load_ply(conformance_dir / "gslrm" / "expected_filtered.ply")
    result = ReconstructionResult(g, None, info={"cameras": custom_rig()})
    write_outputs(result, tmp_path / "out", OutputSpec(turntable_frames=1, render_size=32))
    assert radii == [pytest.approx(CUSTOM_RADIUS, abs=1e-5)]
    png = np.asarray(Image.open(tmp_path / "out" / "output.png").convert("RGB"))
    np.testing.assert_array_equal(png, side_by_side(render_input_views(g, 32, cameras=custom_rig())))
    assert not np.array_equal(png, side_by_side(render_input_views(g, 32)))
