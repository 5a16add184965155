"""Acceptance: the fixture GS-LRM output renders; turntable frame 0 = the front camera's
view; the MP4/GIF decode with the right frame count, size, fps and pixel format and match
the renders; progress per frame; cancel and errors leave no file."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from engine.api import Cancelled, CancelToken, InputError, OutputError, ProgressEvent
from engine.cameras import facelift_cameras, turntable_cameras
from engine.gaussians import Gaussians
from engine.io.export import write_turntable
from engine.io.video import VideoEncoder, gif_frame_ms, write_video
from engine.render import render, render_turntable, to_uint8

SIZE = 64
FRAMES = 6


@pytest.fixture(scope="module")
def fixture_gaussians(
    gslrm_expected: dict[str, np.ndarray], gslrm_expected_gaussians: Gaussians
) -> Gaussians:
    """The reference GS-LRM output of the conformance fixture, filtered as the CLI does."""
    g = gslrm_expected_gaussians.filter()
    assert len(g) == int(gslrm_expected["keep_mask"].sum()) == 5083
    return g


@pytest.fixture(scope="module")
def front_render(fixture_gaussians: Gaussians):
    cams = facelift_cameras(SIZE)
    return render(fixture_gaussians, cams.c2w[0], cams.fxfycxcy[0], SIZE, SIZE, backend="torch-cpu")


def _probe(path: Path) -> tuple[str, int, int, float]:
    """(pixel format, width, height, fps) of the first video stream, from ffmpeg's own report."""
    import imageio_ffmpeg

    out = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True, text=True
    ).stderr
    m = re.search(r"Video: h264[^\n]*?, (yuv\w+)[^,\n]*, (\d+)x(\d+)[^\n]*?, ([\d.]+) fps", out)
    assert m, out
    return m.group(1), int(m.group(2)), int(m.group(3)), float(m.group(4))


def _decode(path: Path) -> tuple[dict, np.ndarray]:
    import imageio_ffmpeg

    gen = imageio_ffmpeg.read_frames(str(path))
    meta = next(gen)
    w, h = meta["size"]
    frames = np.stack([np.frombuffer(f, np.uint8).reshape(h, w, 3) for f in gen])
    return meta, frames


def test_fixture_output_renders_from_every_input_camera(fixture_gaussians, front_render) -> None:
    cams = facelift_cameras(SIZE)
    for i in range(len(cams)):
        res = render(fixture_gaussians, cams.c2w[i], cams.fxfycxcy[i], SIZE, SIZE, backend="torch-cpu")
        assert res.rgb.shape == (SIZE, SIZE, 3) and np.isfinite(res.rgb).all()
        assert 0.05 < res.alpha.mean() < 0.999, f"view {i} should show the Gaussians, not only background"
        covered = res.alpha > 0.5
        assert 1.0 < res.depth[covered].mean() < 4.5  # the head is around the origin, camera at 2.7
    assert front_render.backend == "torch-cpu"


def test_turntable_frame0_equals_front_camera(fixture_gaussians, front_render) -> None:
    tt = turntable_cameras(FRAMES, size=SIZE)
    res0 = render(fixture_gaussians, tt.c2w[0], tt.fxfycxcy[0], SIZE, SIZE, backend="torch-cpu")
    # The cameras differ by ~5e-8, so nearly every value agrees to 1e-5; a pixel may still
    # flip one 1/255-alpha or 1e-4-transmittance decision, which moves it by < 1/255.
    diff = np.abs(res0.rgb - front_render.rgb)
    assert (diff <= 1e-5).mean() > 0.995 and diff.max() < 1 / 255, (diff > 1e-5).sum()
    events: list[ProgressEvent] = []
    frames = list(render_turntable(fixture_gaussians, FRAMES, size=SIZE, on_progress=events.append))
    assert len(frames) == FRAMES and frames[0].shape == (SIZE, SIZE, 3) and frames[0].dtype == np.uint8
    front_u8 = to_uint8(front_render.rgb).astype(int)
    diff = np.abs(frames[0].astype(int) - front_u8)
    assert diff.max() <= 1 and (diff > 0).mean() < 0.001
    assert [(e.stage, e.step, e.total) for e in events] == [
        ("turntable", i + 1, FRAMES) for i in range(FRAMES)
    ]
    # The orbit moves: the next frames differ from frame 0.
    assert np.abs(frames[1].astype(int) - frames[0]).mean() > 1.0


# The fixture's random-weight Gaussians look like coloured noise, the worst case for 4:2:0
# chroma subsampling (measured: 3.2 grey levels at 128 px with CRF 18, still 2.1 at CRF 4);
# a real head is smooth and loses far less. yuv444p CRF 0 is lossless up to RGB<->YUV rounding.
@pytest.mark.parametrize(
    ("lossless", "pix_fmt", "max_mean_diff"), [(False, "yuv420p", 4.0), (True, "yuv444p", 1.0)]
)
def test_mp4_decodes_with_right_format_and_content(
    fixture_gaussians, tmp_path, lossless, pix_fmt, max_mean_diff
) -> None:
    size = 128
    out = tmp_path / "turntable.mp4"
    events: list[ProgressEvent] = []
    result = write_turntable(
        fixture_gaussians,
        out,
        num_frames=FRAMES,
        fps=30,
        size=size,
        lossless=lossless,
        on_progress=events.append,
    )
    assert result == out and out.is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["turntable.mp4"]  # no temp files left
    assert [e.step for e in events] == list(range(1, FRAMES + 1))
    assert _probe(out) == (pix_fmt, size, size, 30.0)
    meta, frames = _decode(out)
    assert meta["fps"] == 30 and tuple(meta["size"]) == (size, size)
    assert frames.shape == (FRAMES, size, size, 3)
    cams = facelift_cameras(size)
    png = to_uint8(render(fixture_gaussians, cams.c2w[0], cams.fxfycxcy[0], size, size).rgb).astype(float)
    diffs = [np.abs(f.astype(float) - png).mean() for f in frames]
    assert diffs[0] < max_mean_diff, diffs[0]
    assert int(np.argmin(diffs)) == 0, "decoded frame 0 should be the front view"


def test_gif_and_custom_fps(fixture_gaussians, tmp_path) -> None:
    from PIL import Image

    frames = list(render_turntable(fixture_gaussians, 4, size=32, background=(0.0, 0.0, 0.0)))
    events: list[ProgressEvent] = []
    out = write_video(frames, tmp_path / "spin.gif", fps=20, on_progress=events.append, total=4)
    assert [(e.stage, e.step, e.total) for e in events] == [("video", i, 4) for i in (1, 2, 3, 4)]
    with Image.open(out) as im:
        assert im.n_frames == 4 and im.size == (32, 32)
        assert im.info["duration"] == 50 and im.info["loop"] == 0
        first = np.asarray(im.convert("RGB")).astype(float)
    assert np.abs(first - frames[0]).mean() < 5.0  # one 256-colour palette per frame
    mp4 = write_video(frames, tmp_path / "spin.mp4", fps=12.5)
    assert _probe(mp4)[3] == 12.5


def test_turntable_options_elevation_and_background(fixture_gaussians) -> None:
    frames = list(
        render_turntable(fixture_gaussians, 8, elevation_deg=20.0, size=48, background=(0.0, 0.0, 0.0))
    )
    cams = turntable_cameras(8, elevation_deg=20.0, size=48)
    for i in (0, 5):
        res = render(fixture_gaussians, cams.c2w[i], cams.fxfycxcy[i], 48, 48, background=(0.0, 0.0, 0.0))
        assert np.abs(frames[i].astype(int) - to_uint8(res.rgb)).max() <= 1
    white = next(render_turntable(fixture_gaussians, 8, elevation_deg=20.0, size=48))
    assert (white >= frames[0]).all() and white.mean() > frames[0].mean() + 5, "background shows through"
    flat = next(render_turntable(fixture_gaussians, 8, size=48, background=(0.0, 0.0, 0.0)))
    assert np.abs(flat.astype(int) - frames[0]).mean() > 2.0, "elevation 20 deg looks different from 0"


def test_cancel_mid_video_leaves_no_file_and_keeps_an_old_one(fixture_gaussians, tmp_path) -> None:
    for name in ("a.mp4", "b.gif"):
        out = tmp_path / name
        token = CancelToken()

        def stop_at_3(ev: ProgressEvent, token: CancelToken = token) -> None:
            if ev.step == 3:
                token.cancel()

        with pytest.raises(Cancelled):
            write_turntable(
                fixture_gaussians, out, num_frames=10, size=32, on_progress=stop_at_3, cancel=token
            )
        assert list(tmp_path.iterdir()) == []
    old = tmp_path / "old.mp4"
    old.write_bytes(b"previous video")
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        write_turntable(fixture_gaussians, old, num_frames=3, size=32, cancel=token)
    assert old.read_bytes() == b"previous video"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.mp4"]


def test_bad_video_requests_give_one_line_errors(tmp_path) -> None:
    frame = np.zeros((33, 33, 3), np.uint8)
    with pytest.raises(InputError, match=r"odd\.mp4: H\.264 yuv420p needs an even frame size, got 33x33"):
        write_video([frame], tmp_path / "odd.mp4")
    write_video([frame], tmp_path / "odd444.mp4", pix_fmt="yuv444p")  # 4:4:4 takes odd sizes
    with pytest.raises(InputError, match=r"must end in \.mp4 or \.gif"):
        write_video([frame], tmp_path / "x.avi")
    with pytest.raises(InputError, match=r"frame 1 is 8x8, frame 0 is 33x33"):
        write_video([frame, np.zeros((8, 8, 3), np.uint8)], tmp_path / "mixed.gif")
    with pytest.raises(InputError, match="no frames"):
        write_video([], tmp_path / "empty.mp4")
    with pytest.raises(InputError, match=r"frame 0 must be \(H,W,3\) uint8"):
        write_video([frame.astype(np.float32)], tmp_path / "float.mp4")
    with pytest.raises(OutputError, match="does not exist"):
        write_video([frame], tmp_path / "missing" / "v.mp4")
    with pytest.raises(InputError, match="frames must be an integer"):
        render_turntable(Gaussians.empty(), num_frames=0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["odd444.mp4"]


# ---- the one encoder: push frames in, one GIF timing rule, atomic --------------------------------


@pytest.mark.parametrize(("fps", "ms"), [(30, 30), (25, 40), (12, 80), (10, 100), (1, 1000), (240, 10)])
def test_one_gif_timing_rule(tmp_path, fps, ms) -> None:
    """GIF keeps time in 1/100 s: each frame lasts 1000/fps rounded to 10 ms (and at least 10)."""
    from PIL import Image

    assert gif_frame_ms(fps) == ms
    frames = np.random.default_rng(fps).integers(0, 255, (3, 16, 16, 3), dtype=np.uint8)
    with VideoEncoder(tmp_path / "t.gif", fps) as encoder:
        for frame in frames:
            encoder.push(frame)
    with Image.open(tmp_path / "t.gif") as im:
        durations = []
        for i in range(im.n_frames):
            im.seek(i)
            durations.append(im.info["duration"])
    assert durations == [ms] * 3


@pytest.mark.parametrize("name", ["v.mp4", "v.gif"])
def test_encoder_abort_and_errors_keep_the_earlier_file(tmp_path, name) -> None:
    out = tmp_path / name
    out.write_bytes(b"earlier video")
    frame = np.zeros((16, 16, 3), np.uint8)
    encoder = VideoEncoder(out, 10)
    encoder.push(frame)
    encoder.push(frame)
    assert encoder.frames == 2
    encoder.abort()
    assert out.read_bytes() == b"earlier video"
    with pytest.raises(InputError, match="frame 1 is 8x8, frame 0 is 16x16"), VideoEncoder(out, 10) as enc:
        enc.push(frame)
        enc.push(np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(OutputError, match="already exists"):
        VideoEncoder(out, 10, overwrite=False)
    with pytest.raises(InputError, match="no frames to write"):
        VideoEncoder(out, 10).close()
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]
    assert out.read_bytes() == b"earlier video"
    with VideoEncoder(out, 10) as enc:
        enc.push(frame)
    assert out.read_bytes() != b"earlier video"
    with pytest.raises(OutputError, match="already closed"):
        enc.push(frame)
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]
