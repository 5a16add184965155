"""The Animate panel with its VisPy viewport (Xvfb + Mesa): a driver dropped on the panel animates
the current head (the instant astronaut, opened as a PLY with its rig file); scrubbing shows the
frame's Gaussians, play / pause move through the frames, Export MP4… writes one frame per driver
frame, and a cancelled export leaves no file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from animate_drivers import open_mouth, write_video
from fakes import FakeFactory
from PySide6.QtCore import Qt

pytestmark = [pytest.mark.gl, pytest.mark.slow]

FOREHEAD, CHIN, LOWER_LIP = 10, 152, 17  # mediapipe face-mesh indices


@pytest.fixture(scope="module")
def mouth_driver(instant_head, tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    """Six frames: the astronaut's own face, then her mouth opened by 20 px (tests/animate_drivers)."""
    from engine.animate.driver import track

    img = instant_head.image
    opened = open_mouth(img, track(img), 20.0)
    return write_video([img] + [opened] * 5, tmp_path_factory.mktemp("driver") / "mouth.mp4")


@pytest.fixture
def window(qtbot, settings_path, no_weights, rigged_ply):  # type: ignore[no-untyped-def]
    from window_factory import window_factory

    from viewer.canvas import configure_vispy

    configure_vispy()
    with window_factory(qtbot, settings_path) as new_window:
        w = new_window(size=(1280, 800), engine_factory=FakeFactory(), use_gl=True)
        assert w.open_gaussians(rigged_ply)
        yield w


def _drop(qtbot, widget, path: Path) -> None:  # type: ignore[no-untyped-def]
    """Drop ``path`` on ``widget`` as a file manager would."""
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent
    from PySide6.QtWidgets import QApplication

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    pos = QPointF(widget.width() / 2, widget.height() / 2)
    action, buttons, mods = (
        Qt.DropAction.CopyAction,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    enter = QDragEnterEvent(pos.toPoint(), action, mime, buttons, mods)
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(widget, QDropEvent(pos, action, mime, buttons, mods))


def _load(qtbot, window, driver: Path) -> object:  # type: ignore[no-untyped-def]
    failures: list = []
    window.animation_failed.connect(failures.append)
    with qtbot.waitSignal(window.animation_ready, timeout=300_000) as ready:
        _drop(qtbot, window.animate_panel, driver)
        qtbot.waitUntil(lambda: window.animation is not None or bool(failures), timeout=300_000)
    assert not failures, failures[0].reason
    return ready.args[0]


def _on_screen(qtbot, viewer) -> None:  # type: ignore[no-untyped-def]
    """Wait until the last frame given to the viewport is drawn with every splat."""
    qtbot.waitUntil(lambda: viewer.frame_on_screen and not viewer.busy, timeout=60_000)


def test_a_dropped_mouth_driver_opens_the_mouth_in_the_viewport(qtbot, window, mouth_driver, instant_head):
    animation = _load(qtbot, window, mouth_driver)
    panel, viewer = window.animate_panel, window.viewport.viewer
    assert animation.frames == 6 and panel.slider.maximum() == 5 and panel.play_button.isEnabled()
    _on_screen(qtbot, viewer)
    first = viewer._arrays.pos.copy()
    assert viewer.gaussians is animation.base  # the head and its mouth interior, as one set

    panel.slider.setValue(5)  # scrub to the last frame, the mouth open
    assert window.scene.frame == 5 and panel.frame_label.text() == "6 / 6"
    _on_screen(qtbot, viewer)
    moved = viewer._arrays.pos - first  # (N,3) what the viewport now draws, against frame 0
    lm = instant_head.rig.landmarks
    down = (lm[CHIN] - lm[FOREHEAD]) / np.linalg.norm(lm[CHIN] - lm[FOREHEAD])
    height = float(np.linalg.norm(lm[CHIN] - lm[FOREHEAD]))
    near = lambda i: np.linalg.norm(first - lm[i], axis=1) < 0.03 * height  # noqa: E731
    lip_drop = float(np.median(moved[near(LOWER_LIP)] @ down)) / height
    forehead = float(np.median(np.abs(moved[near(FOREHEAD)] @ down))) / height
    assert lip_drop > 0.02, lip_drop  # the lower lip goes down by a few % of the face height
    assert forehead < 0.005, forehead  # the forehead stays
    interior = viewer._arrays.rgba[animation.rig.interior, 3]
    assert interior.max() > 0.5  # the dark mouth interior shows behind the parted lips


def test_play_moves_through_the_frames_and_pause_stops_on_the_full_set(qtbot, window, mouth_driver):
    _load(qtbot, window, mouth_driver)
    panel, viewer = window.animate_panel, window.viewport.viewer
    seen: set[int] = set()
    window.scene.frame_changed.connect(lambda scene: seen.add(scene.frame))
    qtbot.mouseClick(panel.play_button, Qt.MouseButton.LeftButton)
    assert window.playing and viewer.playing and panel.play_button.text() == "Pause"
    qtbot.waitUntil(lambda: len(seen) >= 3, timeout=60_000)
    assert panel.slider.value() == window.scene.frame
    panel.play_button.click()
    assert not window.playing and not viewer.playing and panel.play_button.text() == "Play"
    paused = window.scene.frame
    _on_screen(qtbot, viewer)
    assert viewer.drawn_count == viewer.visible_count  # paused: every splat, not the subset
    assert window.scene.frame == paused


def test_export_mp4_has_one_frame_per_driver_frame_and_cancel_leaves_nothing(
    qtbot, window, mouth_driver, tmp_path
):
    import imageio_ffmpeg

    animation = _load(qtbot, window, mouth_driver)
    out = tmp_path / "out"
    out.mkdir()
    target = out / "head.mp4"
    with qtbot.waitSignal(window.export_done, timeout=300_000):
        window.start_animation_export(target, size=128)
    assert imageio_ffmpeg.count_frames_and_secs(str(target))[0] == animation.frames
    assert [p.name for p in out.iterdir()] == ["head.mp4"]

    target.unlink()
    job = window.start_animation_export(target, size=128)
    job.progress.connect(lambda event: job.cancel() if event.step == 2 else None)
    qtbot.waitUntil(lambda: window.job is None, timeout=300_000)
    assert list(out.iterdir()) == []  # no video, no temporary file
    assert "no file was written" in window.status_message.text()
