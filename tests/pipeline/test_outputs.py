"""engine.outputs.write_outputs: the output folder, atomic as a whole, from a known result."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from engine.api import Cancelled, CancelToken, OutputError, ProgressEvent, ReconstructionResult
from engine.gaussians import Gaussians
from engine.outputs import OUTPUT_FILES, OutputSpec, side_by_side, write_outputs

SIZE = 64  # render size: keeps the test fast; the layout is what is checked


@pytest.fixture(scope="module")
def fixture_result(gslrm_expected, gslrm_expected_gaussians, gslrm_inputs) -> ReconstructionResult:
    """A FaceLift-like result: the reference GS-LRM output of the conformance fixture."""
    raw = gslrm_expected_gaussians
    views = gslrm_inputs["image_u8"][0]
    return ReconstructionResult(
        gaussians=raw.subset(gslrm_expected["keep_mask"]),
        input_image=np.full((512, 512, 3), 200, np.uint8),
        views=views,
        engine="facelift",
        info={"unfiltered_gaussians": raw},
    )


def _png(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def _hidden(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_full_output_set(tmp_path, fixture_result):
    from engine.io.ply import load_ply

    out = tmp_path / "out" / "head"
    events: list[ProgressEvent] = []
    written = write_outputs(
        fixture_result, out, OutputSpec(turntable_frames=2, render_size=SIZE), on_progress=events.append
    )
    full_set = sorted(n for n in OUTPUT_FILES if n != "mesh.glb")  # mesh.glb only when asked for
    assert sorted(written) == full_set
    assert sorted(p.name for p in out.iterdir()) == full_set
    assert _png(out / "input.png").shape == (512, 512, 3)
    np.testing.assert_array_equal(_png(out / "multiview.png"), side_by_side(fixture_result.views))
    assert _png(out / "multiview.png").shape == (64, 6 * 64, 3)
    ply = load_ply(out / "gaussians.ply")
    assert len(ply) == 5083  # the filtered set
    np.testing.assert_array_equal(ply.xyz, fixture_result.gaussians.xyz)
    # output.png: the six input cameras, side by side, rendered from the UNFILTERED set
    output = _png(out / "output.png")
    assert output.shape == (SIZE, 6 * SIZE, 3)
    front_unfiltered = _front(fixture_result.info["unfiltered_gaussians"])
    front_filtered = _front(fixture_result.gaussians)
    np.testing.assert_array_equal(output[:, :SIZE], front_unfiltered)
    assert np.abs(output[:, :SIZE].astype(int) - front_filtered).max() > 20
    assert not np.array_equal(output[:, :SIZE], output[:, SIZE : 2 * SIZE])  # six different cameras
    frames = decode_video(out / "turntable.mp4")
    assert len(frames) == 2 and frames[0].shape == (SIZE, SIZE, 3)
    # turntable frame 0 is the front camera's view of the filtered set (video tolerance)
    assert np.abs(frames[0].astype(int) - front_filtered).mean() < 6
    assert events[-1].stage == "write" and events[-1].step == events[-1].total
    assert _hidden(out.parent) == []


def _front(g: Gaussians) -> np.ndarray:
    from engine.cameras import facelift_cameras
    from engine.render import render, to_uint8

    cams = facelift_cameras(SIZE)
    return np.asarray(to_uint8(render(g, cams.c2w[0], cams.fxfycxcy[0], SIZE, SIZE).rgb))


@pytest.fixture(scope="module")
def small_result(fixture_result) -> ReconstructionResult:
    """A cheap result (40 Gaussians) for the bookkeeping tests."""
    g = fixture_result.gaussians.subset(np.arange(40))
    return ReconstructionResult(
        gaussians=g, input_image=fixture_result.input_image, views=fixture_result.views, engine="facelift"
    )


def decode_video(path) -> list[np.ndarray]:
    """Every frame of a video, decoded with imageio's ffmpeg reader."""
    import imageio.v2 as imageio

    with imageio.get_reader(path, "ffmpeg") as reader:
        return list(reader.iter_data())


def test_existing_outputs_are_refused_without_overwrite(tmp_path, small_result):
    out = tmp_path / "head"
    out.mkdir()
    (out / "gaussians.ply").write_bytes(b"old")
    with pytest.raises(OutputError, match=r"head: outputs already exist \(gaussians.ply\).*--overwrite"):
        write_outputs(small_result, out, OutputSpec(turntable_frames=0, render_size=SIZE))
    assert (out / "gaussians.ply").read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["head"]


def test_overwrite_replaces_and_drops_a_stale_multiview(tmp_path, small_result):
    out = tmp_path / "head"
    write_outputs(small_result, out, OutputSpec(turntable_frames=0, render_size=SIZE))
    assert (out / "multiview.png").exists() and not (out / "turntable.mp4").exists()
    instant_like = ReconstructionResult(
        gaussians=small_result.gaussians, input_image=np.zeros((512, 512, 3), np.uint8), engine="instant"
    )
    write_outputs(instant_like, out, OutputSpec(turntable_frames=0, render_size=SIZE), overwrite=True)
    assert not (out / "multiview.png").exists()
    assert _png(out / "input.png").max() == 0
    assert _hidden(tmp_path) == []


@pytest.mark.parametrize("existing", [False, True])
def test_cancel_during_the_turntable_leaves_nothing_partial(tmp_path, small_result, existing):
    out = tmp_path / "head"
    if existing:
        write_outputs(small_result, out, OutputSpec(turntable_frames=0, render_size=SIZE))
        before = {p.name: p.read_bytes() for p in out.iterdir()}
    cancel = CancelToken()

    def on_progress(ev: ProgressEvent) -> None:
        if ev.stage == "turntable" and ev.step >= 1:
            cancel.cancel()

    with pytest.raises(Cancelled):
        write_outputs(
            small_result,
            out,
            OutputSpec(turntable_frames=3, render_size=SIZE),
            overwrite=True,
            on_progress=on_progress,
            cancel=cancel,
        )
    if existing:
        assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # untouched
    else:
        assert not out.exists()
    assert _hidden(tmp_path) == []


def test_already_cancelled_token_writes_nothing(tmp_path, small_result):
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(Cancelled):
        write_outputs(small_result, tmp_path / "head", cancel=cancel)
    assert list(tmp_path.iterdir()) == []
