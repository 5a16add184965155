"""A webcam as a driver (engine.animate.webcam). This machine has no camera: OpenCV's capture is
given a video file in its place, so the real read loop, colour order and encoder run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from animate_drivers import open_mouth, write_video

from engine.animate import webcam
from engine.animate.driver import open_driver, track
from engine.api import Cancelled, CancelToken, ProgressEvent
from engine.cli import main
from engine.errors import InputError


@pytest.mark.parametrize(
    ("source", "index"),
    [("webcam", 0), ("webcam:2", 2), ("/dev/video1", 1), ("clip.mp4", None), ("webcam.mp4", None)],
)
def test_driver_arguments_that_name_a_camera(source, index):
    assert webcam.webcam_index(source) == index


def _camera_playing(clip: Path):  # type: ignore[no-untyped-def]
    """An opener that gives OpenCV's capture of ``clip`` for any camera index."""
    import cv2

    return lambda _index: cv2.VideoCapture(str(clip))


@pytest.fixture
def face_clip(tmp_path, instant_head) -> Path:
    """12 frames at 25 fps: the face, its mouth opening by 20 px from frame 6 on."""
    img = instant_head.image
    opened = open_mouth(img, track(img), 20.0)
    return write_video([img] * 6 + [opened] * 6, tmp_path / "camera.mp4", fps=25.0)


def test_recording_keeps_the_cameras_rate_and_picture(tmp_path, face_clip):
    events: list[ProgressEvent] = []
    out = webcam.record_webcam(0, tmp_path / "rec.mp4", 0.4, events.append, opener=_camera_playing(face_clip))
    info, frames = open_driver(out)
    recorded = list(frames)
    assert info.fps == pytest.approx(25.0) and len(recorded) == 10  # 0.4 s at the camera's 25 fps
    assert [e.step for e in events] == list(range(1, 11)) and events[-1].total == 10
    _, source = open_driver(face_clip)
    first = next(source).astype(float)
    assert np.abs(recorded[0].astype(float) - first).mean() < 6.0  # same picture, RGB kept in order


def test_a_camera_that_stops_early_keeps_what_was_recorded(tmp_path, face_clip):
    out = webcam.record_webcam(0, tmp_path / "rec.mp4", 5.0, opener=_camera_playing(face_clip))
    assert len(list(open_driver(out)[1])) == 12


def test_cancel_while_recording_leaves_no_file(tmp_path, face_clip):
    token = CancelToken()

    def on_progress(ev: ProgressEvent) -> None:
        if ev.step == 3:
            token.cancel()

    with pytest.raises(Cancelled):
        webcam.record_webcam(
            0, tmp_path / "rec.mp4", 0.4, on_progress, token, opener=_camera_playing(face_clip)
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["camera.mp4"]


def test_missing_or_blind_cameras_say_so_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(webcam, "camera_present", lambda index: False)
    with pytest.raises(InputError, match=r"^webcam 7: no camera found \(/dev/video7 does not exist\)$"):
        webcam.record_webcam(7, tmp_path / "rec.mp4")

    class Blind:
        def read(self):  # type: ignore[no-untyped-def]
            return False, None

        def get(self, prop: int) -> float:
            return 0.0

        def release(self) -> None:
            pass

    with pytest.raises(InputError, match=r"^webcam 0: the camera gives no picture$"):
        webcam.record_webcam(0, tmp_path / "rec.mp4", opener=lambda _i: Blind())
    assert list(tmp_path.iterdir()) == []


def test_animate_with_a_webcam_driver(tmp_path, monkeypatch, instant_head, face_clip, capsys):
    monkeypatch.setattr(webcam, "open_camera", _camera_playing(face_clip))
    out = tmp_path / "anim.mp4"
    argv = ["animate", str(instant_head.folder), "--driver", "webcam", "--webcam-seconds", "0.12"]
    assert main([*argv, "-o", str(out), "--size", "64", "--side-by-side"]) == 0
    info, frames = open_driver(out)
    assert info.size == (128, 64) and len(list(frames)) == 3  # every recorded frame, driver beside
    assert "recording 0.12 s from webcam 0" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["anim.mp4", "camera.mp4"]


def test_animate_without_a_camera_is_one_line(tmp_path, monkeypatch, instant_head, capsys):
    monkeypatch.setattr(webcam, "camera_present", lambda index: False)
    argv = ["animate", str(instant_head.folder), "--driver", "/dev/video3", "-o", str(tmp_path / "a.mp4")]
    assert main(argv) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == "facelift: error: webcam 3: no camera found (/dev/video3 does not exist)"
    assert list(tmp_path.iterdir()) == []
