"""Record webcam in the Animate panel: the clip is saved where the user chose and drives the head;
Cancel while recording saves nothing; without a camera the button says why it is off. This
machine has no camera: OpenCV's capture is given a face video in its place."""

from __future__ import annotations

from pathlib import Path

import pytest
from animate_drivers import write_video

from engine.animate import webcam

pytestmark = pytest.mark.slow


@pytest.fixture
def camera(monkeypatch, instant_head, tmp_path) -> Path:  # type: ignore[no-untyped-def]
    """Camera 0 plays 10 frames of the astronaut at 25 fps."""
    import cv2

    (tmp_path / "camera").mkdir()
    clip = write_video([instant_head.image] * 10, tmp_path / "camera" / "feed.mp4")
    monkeypatch.setattr(webcam, "camera_present", lambda index: True)
    monkeypatch.setattr(webcam, "open_camera", lambda index: cv2.VideoCapture(str(clip)))
    return clip


def test_a_recorded_clip_is_kept_and_drives_the_head(qtbot, make_window, rigged_ply, camera, tmp_path):
    window = make_window()
    assert window.animate_panel.record_button.isEnabled()
    assert window.open_gaussians(rigged_ply)
    clip = tmp_path / "mine" / "me.mp4"
    clip.parent.mkdir()
    with qtbot.waitSignal(window.animation_ready, timeout=120_000) as ready:
        assert window.record_webcam(clip, 0.24)
    animation = ready.args[0]
    assert animation.driver == clip and animation.frames == 6  # 0.24 s of a 25 fps camera
    assert window.animate_panel.driver_label.text() == "me.mp4: 6 frames"
    assert [p.name for p in clip.parent.iterdir()] == ["me.mp4"]


def test_cancel_while_recording_saves_nothing(qtbot, make_window, rigged_ply, camera, tmp_path):
    window = make_window()
    assert window.open_gaussians(rigged_ply)
    clip = tmp_path / "mine" / "me.mp4"
    clip.parent.mkdir()
    assert window.record_webcam(clip, 0.4)
    job = window.job
    job.progress.connect(lambda event: job.cancel() if event.step == 2 else None)  # thread-safe
    qtbot.waitUntil(lambda: window.job is None, timeout=60_000)
    assert window.status_message.text() == "Webcam recording cancelled; nothing was saved."
    assert list(clip.parent.iterdir()) == [] and window.animation is None
    assert window.animate_panel.record_button.isEnabled()


def test_without_a_camera_the_button_is_off_and_says_why(monkeypatch, make_window):
    monkeypatch.setattr(webcam, "camera_present", lambda index: False)
    window = make_window()
    button = window.animate_panel.record_button
    assert not button.isEnabled() and "No webcam found" in button.toolTip()
