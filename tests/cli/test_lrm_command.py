"""``facelift lrm``: six view images -> a Gaussian PLY, like the reference's filtered output."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from camera_rigs import orbit_rig, write_cameras_json
from PIL import Image

from engine.cameras import DEFAULT_CAMERAS_JSON, SLOT_ORDER
from engine.cli import main
from engine.geometry import VIEW_NAMES


def _write_views(folder: Path, views: np.ndarray, suffix: str = ".png") -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, view in zip(VIEW_NAMES, views):
        path = folder / f"{name}{suffix}"
        Image.fromarray(view).save(path)
        paths.append(str(path))
    return paths


@pytest.fixture(scope="module")
def view_paths(tmp_path_factory, gslrm_inputs) -> list[str]:
    return _write_views(tmp_path_factory.mktemp("views"), gslrm_inputs["image_u8"][0])


def _vertex_count(path: Path) -> int:
    from plyfile import PlyData

    return PlyData.read(str(path))["vertex"].count


def _unfiltered_vertex_count(folder: Path, views: np.ndarray, weights: Path) -> int:
    """Writes ``views`` (6,H,W,3) uint8 into ``folder``, runs ``facelift lrm --no-filter`` on them
    (exit 0 asserted) and returns the written PLY's vertex count."""
    out = folder / "head.ply"
    argv = ["lrm", *_write_views(folder, views), "-o", str(out), "--weights", str(weights)]
    assert main([*argv, "--no-filter"]) == 0
    return _vertex_count(out)


def test_lrm_reproduces_the_reference_ply(
    tmp_path, view_paths, conformance_dir, assert_matches_expected_ply, capsys
):
    out = tmp_path / "head.ply"
    assert main(["lrm", *view_paths, "-o", str(out), "--weights", str(conformance_dir)]) == 0
    assert_matches_expected_ply(out)
    assert "Gaussians from 6 views of 64x64" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["head.ply"]  # no temp file left


def test_no_filter_keeps_every_gaussian(tmp_path, view_paths, conformance_dir):
    out = tmp_path / "raw.ply"
    assert main(["lrm", *view_paths, "-o", str(out), "--weights", str(conformance_dir), "--no-filter"]) == 0
    assert _vertex_count(out) == 2 + 6 * 64 * 64


def test_cameras_json_in_slot_order_equals_the_default_rig(tmp_path, view_paths, conformance_dir):
    rig = json.loads(DEFAULT_CAMERAS_JSON.read_text())
    rig["frames"] = [rig["frames"][i] for i in SLOT_ORDER]
    cams = tmp_path / "cams.json"
    cams.write_text(json.dumps(rig))
    a, b = tmp_path / "a.ply", tmp_path / "b.ply"
    base = ["--weights", str(conformance_dir), "--no-filter"]
    assert main(["lrm", *view_paths, "-o", str(a), *base]) == 0
    assert main(["lrm", *view_paths, "-o", str(b), "--cameras", str(cams), *base]) == 0
    assert a.read_bytes() == b.read_bytes()
    # A different rig (slots reversed) gives a different head: the json is really used.
    rig["frames"] = rig["frames"][::-1]
    cams.write_text(json.dumps(rig))
    assert main(["lrm", *view_paths, "-o", str(b), "--cameras", str(cams), "--overwrite", *base]) == 0
    assert a.read_bytes() != b.read_bytes()


def test_rgba_views_are_composited_on_white(tmp_path, gslrm_inputs, conformance_dir):
    views = gslrm_inputs["image_u8"][0]
    rgba = np.concatenate([np.zeros_like(views), np.zeros_like(views[..., :1])], axis=-1)  # transparent black
    white = np.full_like(views, 255)
    out_rgba, out_white = tmp_path / "rgba.ply", tmp_path / "white.ply"
    base = ["--weights", str(conformance_dir), "--no-filter"]
    assert main(["lrm", *_write_views(tmp_path / "a", rgba), "-o", str(out_rgba), *base]) == 0
    assert main(["lrm", *_write_views(tmp_path / "b", white), "-o", str(out_white), *base]) == 0
    assert out_rgba.read_bytes() == out_white.read_bytes()


@pytest.mark.parametrize("side", [60, 128])
def test_views_not_usable_as_they_are_are_resized_to_image_size(
    tmp_path, gslrm_inputs, conformance_dir, side
):
    """60 is not a multiple of 8 and 128 is above the tiny model's image_size 64: both -> 64x64."""
    views = np.stack(
        [np.asarray(Image.fromarray(v).resize((side, side))) for v in gslrm_inputs["image_u8"][0]]
    )
    assert _unfiltered_vertex_count(tmp_path, views, conformance_dir) == 2 + 6 * 64 * 64


def test_smaller_views_divisible_by_8_keep_their_size(tmp_path, gslrm_inputs, conformance_dir, capsys):
    views = gslrm_inputs["image_u8"][0][:, :32, :48]
    assert _unfiltered_vertex_count(tmp_path, views, conformance_dir) == 2 + 6 * 32 * 48
    assert "6 views of 48x32" in capsys.readouterr().out


def _one_line_error(capsys, argv: list[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("facelift: error: ")
    return err


def test_wrong_number_of_views_is_a_one_line_error(tmp_path, view_paths, conformance_dir, capsys):
    out = tmp_path / "x.ply"
    err = _one_line_error(capsys, ["lrm", *view_paths[:5], "-o", str(out), "--weights", str(conformance_dir)])
    assert "6 cameras for 5 views" in err and "--cameras" in err
    assert not out.exists()


def test_views_of_different_sizes_are_a_one_line_error(tmp_path, gslrm_inputs, conformance_dir, capsys):
    paths = _write_views(tmp_path, gslrm_inputs["image_u8"][0])
    Image.fromarray(gslrm_inputs["image_u8"][0][0, :56]).save(paths[0])
    err = _one_line_error(
        capsys, ["lrm", *paths, "-o", str(tmp_path / "x.ply"), "--weights", str(conformance_dir)]
    )
    assert "one size" in err and "front.png 64x56" in err


def test_unreadable_view_is_a_one_line_error(tmp_path, view_paths, conformance_dir, capsys):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    paths = [*view_paths[:5], str(bad)]
    err = _one_line_error(
        capsys, ["lrm", *paths, "-o", str(tmp_path / "x.ply"), "--weights", str(conformance_dir)]
    )
    assert "bad.png" in err


def test_missing_weights_is_a_one_line_error(tmp_path, view_paths, capsys):
    err = _one_line_error(
        capsys, ["lrm", *view_paths, "-o", str(tmp_path / "x.ply"), "--weights", str(tmp_path)]
    )
    assert "GS-LRM weights folder not found" in err


def _views(gslrm_inputs, n: int) -> np.ndarray:
    """n 64x64 views: the six conformance renders, repeated (GS-LRM takes them as they come)."""
    six = gslrm_inputs["image_u8"][0]
    return np.stack([six[i % 6] for i in range(n)])


def _write_n(folder: Path, views: np.ndarray) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, view in enumerate(views):
        Image.fromarray(view).save(folder / f"v{i}.png")
        paths.append(str(folder / f"v{i}.png"))
    return paths


@pytest.mark.parametrize("n", [4, 8])
def test_n_posed_views_reconstruct(tmp_path, gslrm_inputs, conformance_dir, capsys, n):
    from engine.gslrm.reconstructor import GSLRMReconstructor
    from engine.io.ply import load_ply

    cams = orbit_rig(np.linspace(270.0, 630.0, n, endpoint=False), elevation=10.0, radius=2.5)
    rig = write_cameras_json(tmp_path / "cams.json", cams)
    views = _views(gslrm_inputs, n)
    out = tmp_path / "n.ply"
    argv = ["lrm", *_write_n(tmp_path / "v", views), "--cameras", str(rig), "-o", str(out)]
    assert main([*argv, "--weights", str(conformance_dir), "--no-filter"]) == 0
    assert f"from {n} views of 64x64" in capsys.readouterr().out
    got = load_ply(out)
    assert len(got) == 2 + n * 64 * 64
    # the same as the library given these cameras explicitly
    lrm = GSLRMReconstructor.from_weights(conformance_dir, device="cpu")
    want = lrm.reconstruct(views, cams, apply_filter=False)
    np.testing.assert_allclose(got.xyz, want.xyz, atol=1e-5)


def test_camera_and_view_counts_must_agree(tmp_path, gslrm_inputs, conformance_dir, capsys):
    cams = orbit_rig(np.linspace(0.0, 360.0, 8, endpoint=False), elevation=0.0, radius=2.7)
    rig = write_cameras_json(tmp_path / "eight.json", cams)
    paths = _write_n(tmp_path / "v", _views(gslrm_inputs, 4))
    out = tmp_path / "x.ply"
    base = ["-o", str(out), "--weights", str(conformance_dir)]
    err = _one_line_error(capsys, ["lrm", *paths, "--cameras", str(rig), *base])
    assert "eight.json: 8 cameras for 4 views" in err
    err = _one_line_error(capsys, ["lrm", *paths, *base])  # the folder's six cameras
    assert "6 cameras for 4 views" in err and "opencv_cameras.json" in err
    assert not out.exists()
