"""`facelift animate HEAD --driver VIDEO_OR_PHOTO -o OUT.mp4`."""

from __future__ import annotations

import numpy as np
from animate_drivers import open_mouth, write_video

from engine.animate.driver import track
from engine.cli import main


def _read(path):
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    frames = [np.frombuffer(f, np.uint8).reshape(meta["size"][1], meta["size"][0], 3) for f in reader]
    return meta, frames


def test_animate_folder_with_a_video_driver(tmp_path, instant_head):
    img = instant_head.image
    driver = write_video([img, img, open_mouth(img, track(img), 20.0)], tmp_path / "driver.mp4")
    out = tmp_path / "anim.mp4"
    seq = tmp_path / "plys"
    argv = ["animate", str(instant_head.folder), "--driver", str(driver), "-o", str(out), "--size", "64"]
    assert main([*argv, "--side-by-side", "--ply-sequence", str(seq)]) == 0
    meta, frames = _read(out)
    assert len(frames) == 3 and meta["size"] == (128, 64)  # driver 64x64 beside the head
    assert "yuv420p" in meta["pix_fmt"]
    assert sorted(p.name for p in seq.iterdir()) == [f"frame_{i:05d}.ply" for i in range(3)]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]


def test_animate_errors_are_one_line_and_leave_nothing(tmp_path, instant_head, capsys):
    out = tmp_path / "anim.mp4"
    blank = write_video([np.full((64, 64, 3), 255, np.uint8)] * 2, tmp_path / "blank.mp4")
    assert main(["animate", str(instant_head.folder), "--driver", str(blank), "-o", str(out)]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == f"facelift: error: {blank}: no face found in the driver"

    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"not a video" * 100)
    assert main(["animate", str(instant_head.folder), "--driver", str(garbage), "-o", str(out)]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"facelift: error: {garbage}: cannot read the driver video")

    lone = tmp_path / "lone"
    lone.mkdir()
    (lone / "head.ply").write_bytes((instant_head.folder / "gaussians.ply").read_bytes())
    photo = tmp_path / "driver.png"
    from engine.io.images import save_png

    save_png(instant_head.image, photo)
    assert main(["animate", str(lone / "head.ply"), "--driver", str(photo), "-o", str(out)]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert "has no rig (head.rig.npz) and no input.png" in err[-1] and len(err[-1].split("\n")) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blank.mp4", "driver.png", "garbage.mp4", "lone"]


def test_a_ply_with_its_rig_file_animates_from_a_photo_driver(tmp_path, facelift_head, instant_head):
    """A FaceLift-layout head (the conformance GS-LRM output) with a rig file, driven by one
    photo with an open mouth: 25 frames easing into it; the mouth interior appears."""
    from engine.animate.head_source import rig_path, save_rig
    from engine.io.images import save_png

    ply = tmp_path / "head.ply"
    ply.write_bytes((facelift_head.folder / "gaussians.ply").read_bytes())
    save_rig(rig_path(ply), facelift_head.rig.landmarks)
    photo = tmp_path / "driver.png"
    save_png(open_mouth(instant_head.image, track(instant_head.image), 20.0), photo)
    out = tmp_path / "anim.mp4"
    assert main(["animate", str(ply), "--driver", str(photo), "-o", str(out), "--size", "64"]) == 0
    meta, frames = _read(out)
    assert len(frames) == 25 and meta["size"] == (64, 64)
    assert np.abs(frames[-1].astype(int) - frames[0].astype(int)).max() > 40  # the head moved
