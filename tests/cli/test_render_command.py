"""`facelift render PLY -o OUT.(mp4|gif|png)`."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from engine.cli import main
from engine.gaussians import Gaussians


@pytest.fixture(scope="module")
def blob_ply(tmp_path_factory):
    """A red blob at the origin and a blue one at +X (the head's left side): 60 Gaussians."""
    from engine.io.ply import save_ply

    n = 30
    xyz = np.concatenate([np.zeros((n, 3)), np.tile([[0.6, 0.0, 0.0]], (n, 1))])
    dc = np.concatenate([np.tile([[1.5, -1.7, -1.7]], (n, 1)), np.tile([[-1.7, -1.7, 1.5]], (n, 1))])
    g = Gaussians(
        xyz=xyz,
        sh_dc=dc,
        sh_rest=np.zeros((2 * n, 0, 3)),
        log_scales=np.full((2 * n, 3), np.log(0.15)),
        quats=np.tile([[1.0, 0, 0, 0]], (2 * n, 1)),
        opacity_logits=np.full(2 * n, 4.0),
    )
    path = tmp_path_factory.mktemp("ply") / "blobs.ply"
    save_ply(g, path)
    return path


def _png(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB")).astype(int)


def test_png_front_view_and_other_views(tmp_path, blob_ply):
    front = tmp_path / "front.png"
    assert main(["render", str(blob_ply), "-o", str(front), "--size", "48"]) == 0
    img = _png(front)
    assert img.shape == (48, 48, 3)
    assert img[24, 24, 0] > 200 and img[24, 24, 2] < 100  # red blob in the middle
    # seen from the front (camera at -Y), +X is on the image's right: the blue blob
    right_half = img[:, 30:]
    assert ((right_half[..., 2] > 150) & (right_half[..., 0] < 100)).any()
    left = tmp_path / "left.png"
    assert main(["render", str(blob_ply), "-o", str(left), "--size", "48", "--view", "left"]) == 0
    img_left = _png(left)
    # the left camera sits at +X: the blue blob is in front of the red one, in the centre
    assert img_left[24, 24, 2] > 150 and img_left[24, 24, 0] < 100


def test_png_background_option(tmp_path, blob_ply):
    out = tmp_path / "bg.png"
    assert main(["render", str(blob_ply), "-o", str(out), "--size", "32", "--background", "#102030"]) == 0
    assert tuple(_png(out)[1, 1]) == (0x10, 0x20, 0x30)


def test_mp4_has_the_frames_asked_for(tmp_path, blob_ply):
    import imageio.v2 as imageio

    out = tmp_path / "turn.mp4"
    assert (
        main(["render", str(blob_ply), "-o", str(out), "--frames", "3", "--fps", "10", "--size", "32"]) == 0
    )
    with imageio.get_reader(out, "ffmpeg") as reader:
        frames = list(reader.iter_data())
        assert reader.get_meta_data()["fps"] == 10
    assert len(frames) == 3 and frames[0].shape == (32, 32, 3)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--background", "pink"], "--background"),
        (["-o", "x.avi"], "must end in .mp4, .gif or .png"),
        (["--view", "left"], "--view applies to a .png"),
    ],
)
def test_bad_options_are_one_line_errors(tmp_path, blob_ply, capsys, extra, message):
    args = ["render", str(blob_ply), "-o", str(tmp_path / "a.mp4"), *extra]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_missing_or_bad_ply_is_exit_2(tmp_path, capsys):
    assert main(["render", str(tmp_path / "nope.ply"), "-o", str(tmp_path / "a.png")]) == 2
    assert "nope.ply" in capsys.readouterr().err
    bad = tmp_path / "bad.ply"
    bad.write_bytes(b"ply\nformat ascii 1.0\nend_header\n")
    assert main(["render", str(bad), "-o", str(tmp_path / "a.png")]) == 2
    assert "bad.ply" in capsys.readouterr().err
    assert not (tmp_path / "a.png").exists()


def test_existing_output_needs_overwrite(tmp_path, blob_ply, capsys):
    out = tmp_path / "a.png"
    out.write_bytes(b"old")
    assert main(["render", str(blob_ply), "-o", str(out), "--size", "16"]) == 2
    assert "a.png" in capsys.readouterr().err and out.read_bytes() == b"old"
    assert main(["render", str(blob_ply), "-o", str(out), "--size", "16", "--overwrite"]) == 0
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_splat_input_renders_like_the_ply(tmp_path, blob_ply):
    from engine.io.ply import load_ply
    from engine.io.splat import save_splat

    splat = tmp_path / "blobs.splat"
    save_splat(load_ply(blob_ply), splat)
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    assert main(["render", str(blob_ply), "-o", str(a), "--size", "32"]) == 0
    assert main(["render", str(splat), "-o", str(b), "--size", "32"]) == 0
    assert np.abs(_png(a) - _png(b)).max() <= 3  # 8-bit colour/opacity quantisation only
