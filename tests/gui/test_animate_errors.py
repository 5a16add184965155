"""The Animate panel without an OpenGL viewport: one-line errors for a driver with no face, a file
that is not a video and a head that has no rig (each leaves the head as it was and the window
idle), and Export MP4… drawn by the engine's renderer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from animate_drivers import write_video

pytestmark = pytest.mark.slow


def _failure(qtbot, window, driver: Path) -> str:  # type: ignore[no-untyped-def]
    failures: list = []
    window.animation_failed.connect(failures.append)
    assert window.load_driver(driver)
    qtbot.waitUntil(lambda: bool(failures), timeout=120_000)
    qtbot.waitUntil(lambda: window.job is None, timeout=10_000)
    assert window.animation is None and window.animate_panel.open_button.isEnabled()
    assert not window.animate_panel.play_button.isEnabled()
    reason = failures[0].reason
    assert "\n" not in reason and "Traceback" not in reason
    assert window.last_failure_dialog is not None
    return str(reason)


def test_a_driver_without_a_face_and_a_file_that_is_not_a_video_say_so(
    qtbot, make_window, rigged_ply, tmp_path
):
    window = make_window()
    assert window.open_gaussians(rigged_ply)
    grey = write_video([np.full((64, 64, 3), 128, np.uint8)] * 3, tmp_path / "grey.mp4")
    assert _failure(qtbot, window, grey) == f"{grey}: no face found in the driver"
    junk = tmp_path / "junk.mp4"
    junk.write_text("not a video")
    assert _failure(qtbot, window, junk).startswith(f"{junk}: cannot read the driver video")
    assert window.scene.result is not None and window.scene.source == rigged_ply


def test_a_head_without_a_rig_or_photo_says_how_to_get_one(qtbot, make_window, instant_head, tmp_path):
    from engine.io.ply import save_ply

    bare = tmp_path / "bare" / "head.ply"
    bare.parent.mkdir()
    save_ply(instant_head.gaussians, bare)
    window = make_window()
    assert window.open_gaussians(bare)
    driver = write_video([instant_head.image] * 2, tmp_path / "driver.mp4")
    reason = _failure(qtbot, window, driver)
    assert reason.startswith("head.ply: this head has no rig and no input photo to fit one"), reason


def test_without_gl_the_engine_draws_the_exported_animation(
    qtbot, make_window, rigged_ply, instant_head, tmp_path
):
    import imageio_ffmpeg

    window = make_window()
    assert window.open_gaussians(rigged_ply)
    driver = write_video([instant_head.image] * 3, tmp_path / "driver.mp4")
    with qtbot.waitSignal(window.animation_ready, timeout=120_000):
        assert window.load_driver(driver)
    target = tmp_path / "out" / "anim.mp4"
    target.parent.mkdir()
    with qtbot.waitSignal(window.export_done, timeout=300_000):
        window.start_animation_export(target, size=64)
    assert imageio_ffmpeg.count_frames_and_secs(str(target))[0] == 3
    assert [p.name for p in target.parent.iterdir()] == ["anim.mp4"]


def test_cancel_while_the_frames_are_computed_leaves_the_head_as_it_was(
    qtbot, make_window, rigged_ply, instant_head, tmp_path
):
    window = make_window()
    assert window.open_gaussians(rigged_ply)
    driver = write_video([instant_head.image] * 8, tmp_path / "driver.mp4")
    assert window.load_driver(driver)
    job = window.job
    job.progress.connect(lambda event: job.cancel() if event.stage == "animate" else None)  # thread-safe
    qtbot.waitUntil(lambda: window.job is None, timeout=120_000)
    assert job.cancel_requested and window.animation is None
    assert window.progress_panel.stage_label.text() == "Cancelled"
    assert window.status_message.text() == "Animation cancelled; the head is as it was."
    assert window.scene.result is not None and not window.animate_panel.play_button.isEnabled()
