"""The whole window with its VisPy viewport under Xvfb + Mesa.

With the real instant engine on the astronaut photo,
and with the fake engine otherwise-independent checks (exports, turntable cancel).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fakes import FakeFactory

from engine.settings import EngineConfig
from facelift_desktop.settings import AppSettings
from facelift_desktop.turntable import TurntableSpec
from facelift_desktop.worker import default_engine_factory

pytestmark = pytest.mark.gl


@pytest.fixture
def astronaut(tmp_path: Path) -> Path:
    import imageio.v2 as imageio
    from skimage import data

    path = tmp_path / "astronaut.png"
    imageio.imwrite(path, data.astronaut())
    return path


@pytest.fixture
def gl_window(qtbot, settings_path, no_weights):  # type: ignore[no-untyped-def]
    from window_factory import window_factory

    from viewer.canvas import configure_vispy

    configure_vispy()
    with window_factory(qtbot, settings_path) as new_window:
        yield lambda factory: new_window(size=(1280, 800), engine_factory=factory, use_gl=True)


def _instant_only(config: EngineConfig):  # type: ignore[no-untyped-def]
    assert config.engine == "instant"
    return default_engine_factory(config)


def _reconstruct(qtbot, window, photo: Path, timeout: int = 120_000) -> None:  # type: ignore[no-untyped-def]
    assert window.open_photo(photo)
    failures: list = []
    window.run_failed.connect(failures.append)
    with qtbot.waitSignals([window.run_finished], timeout=timeout, raising=False) as blocker:
        assert window.reconstruct()
        qtbot.waitUntil(lambda: window.result is not None or bool(failures), timeout=timeout)
    assert not failures, failures[0].reason
    assert blocker.signal_triggered
    window.viewport.viewer.settle()


def _background_mask(img: np.ndarray, window) -> np.ndarray:  # type: ignore[no-untyped-def]
    from viewer.canvas import BACKGROUNDS

    bg = np.round(np.array(BACKGROUNDS[window.viewport.viewer.background]) * 255)
    return np.abs(img.astype(float) - bg).max(axis=-1) <= 3


def _read_mp4(path: Path) -> np.ndarray:
    """(T,H,W,3) uint8 frames decoded by the bundled ffmpeg."""
    import imageio_ffmpeg

    gen = imageio_ffmpeg.read_frames(str(path))
    meta = next(gen)
    w, h = meta["size"]
    return np.stack([np.frombuffer(f, np.uint8).reshape(h, w, 3) for f in gen])


def _centre_change(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference over the middle of the view, where the head is."""
    h, w = a.shape[:2]
    box = (slice(h // 3, 2 * h // 3), slice(2 * w // 5, 3 * w // 5))
    return float(np.abs(a[box].astype(int) - b[box].astype(int)).mean())


def _check_head_in_centre(window) -> np.ndarray:  # type: ignore[no-untyped-def]
    img = window.viewport.viewer.render_image()
    h, w = img.shape[:2]
    bg = _background_mask(img, window)
    centre = bg[h // 2 - 10 : h // 2 + 10, w // 2 - 10 : w // 2 + 10]
    assert not centre.any(), "the centre of the view shows background, not the head"
    for corner in (bg[:20, :20], bg[:20, -20:], bg[-20:, :20], bg[-20:, -20:]):
        assert corner.all(), "a corner of the view is not background"
    return img


@pytest.mark.slow
def test_instant_engine_on_the_astronaut(qtbot, gl_window, astronaut, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from engine.io.ply import load_ply

    window = gl_window(_instant_only)
    _reconstruct(qtbot, window, astronaut)
    assert window.input_panel.crop.has_image
    front = _check_head_in_centre(window)
    window.viewport.viewer.orbit(60.0)
    turned = window.viewport.viewer.render_image()
    assert _centre_change(front, turned) > 8.0
    # the opacity slider re-filters the same result
    before = window.viewport.viewer.visible_count
    window.viewport.opacity_slider.setValue(60)  # keep opacity > 0.3
    after = window.viewport.viewer.visible_count
    assert 0 < after < before == len(window.result.gaussians)
    assert f"{after:,} of {before:,}" in window.count_label.text()
    ply = window.export_ply(tmp_path / "astronaut.ply")
    assert len(load_ply(ply)) == after  # the export is what the filter shows


def test_fake_result_in_the_viewport_orbit_filter_and_exports(qtbot, gl_window, photo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import imageio.v3 as iio

    from engine.io.ply import load_ply

    window = gl_window(FakeFactory(count=20_000))
    _reconstruct(qtbot, window, photo)
    front = _check_head_in_centre(window)
    window.viewport.view_buttons["left"].click()
    left = window.viewport.viewer.render_image()
    assert _centre_change(front, left) > 8.0
    window.viewport.view_buttons["front"].click()
    window.viewport.crop_slider.setValue(20)  # a small crop box
    visible = window.viewport.viewer.visible_count
    assert visible < 20_000
    assert f"Gaussians: {visible:,} of 20,000" in window.count_label.text()
    window.viewport.reset_filters()
    assert window.viewport.viewer.visible_count == 20_000
    assert len(load_ply(window.export_ply(tmp_path / "head.ply"))) == 20_000

    png = window.export_png(tmp_path / "view.png")
    assert iio.imread(png).shape[2] == 3

    out = tmp_path / "turntable.mp4"
    job = window.start_turntable_export(TurntableSpec(out, frames=12, fps=12, size=128))
    with qtbot.waitSignal(job.finished, timeout=60_000):
        pass
    frames = _read_mp4(out)
    assert frames.shape[0] == 12 and frames.shape[1:3] == (128, 128)
    assert frames[0].std() > 5  # not blank
    assert float(np.abs(frames[0].astype(int) - frames[3].astype(int)).mean()) > 1.0  # it turns
    assert not list(tmp_path.glob(".*"))


def test_cancelled_turntable_leaves_no_file(qtbot, gl_window, photo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    window = gl_window(FakeFactory(count=5000))
    _reconstruct(qtbot, window, photo)
    out = tmp_path / "turntable.gif"
    job = window.start_turntable_export(TurntableSpec(out, frames=200, fps=10, size=128))
    qtbot.waitUntil(lambda: job._index >= 2, timeout=30_000)
    with qtbot.waitSignal(job.cancelled, timeout=10_000):
        window.cancel_export()
    assert not out.exists() and not list(tmp_path.glob(".turntable*"))
    assert window.progress_panel.stage_label.text() == "Export cancelled"
    assert window.progress_panel.reconstruct_button.isEnabled()


def test_screenshot_of_the_window_shows_the_viewport(qtbot, gl_window, photo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import imageio.v3 as iio

    window = gl_window(FakeFactory(count=5000))
    _reconstruct(qtbot, window, photo)
    shot = iio.imread(window.grab_screenshot(tmp_path / "window.png"))
    assert shot.shape[:2] == (window.height(), window.width())
    viewport = window.viewport.viewer.native
    centre = viewport.mapTo(window, viewport.rect().center())
    pixel = shot[centre.y(), centre.x()]
    assert pixel[0] > 150  # the synthetic face's skin, not the dark background


def test_facelift_preview_is_shown_then_replaced(qtbot, settings_path, fake_weights, photo) -> None:  # type: ignore[no-untyped-def]
    import threading

    from facelift_desktop.main_window import MainWindow

    gate = threading.Event()
    window = MainWindow(AppSettings.at_path(settings_path), engine_factory=FakeFactory(count=3000, gate=gate))
    window.modal_dialogs = False
    qtbot.addWidget(window)
    window.show()
    try:
        window.parameters_panel.engine.setCurrentIndex(window.parameters_panel.engine.findData("facelift"))
        window.open_photo(photo)
        window.reconstruct()
        viewer = window.viewport.viewer
        # the instant preview (500 Gaussians in the fake) is on screen while "diffusion" waits
        qtbot.waitUntil(lambda: viewer.gaussians is not None and len(viewer.gaussians) == 500, timeout=10_000)
        assert window.engine_worker.running
        with qtbot.waitSignal(window.run_finished, timeout=10_000):
            gate.set()
        assert viewer.gaussians is window.result.gaussians and len(viewer.gaussians) == 3000
        assert window.views_strip.views is not None
    finally:
        gate.set()
        window.shutdown()


def _gif_timing(path: Path) -> tuple[int, tuple[int, int], list[int], int]:
    """(frames, size, each frame's duration in ms, loop count) of a GIF."""
    from PIL import Image

    with Image.open(path) as im:
        durations = []
        for i in range(im.n_frames):
            im.seek(i)
            durations.append(im.info["duration"])
        return im.n_frames, im.size, durations, im.info["loop"]


def _mp4_timing(path: Path) -> tuple[int, str, tuple[int, int], float]:
    """(frames, pixel format, size, fps) of an MP4, from the bundled ffmpeg's own report."""
    import re
    import subprocess

    import imageio_ffmpeg

    report = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True, text=True
    ).stderr
    m = re.search(r"Video: h264[^\n]*?, (yuv\w+)[^,\n]*, (\d+)x(\d+)[^\n]*?, ([\d.]+) fps", report)
    assert m, report
    return len(_read_mp4(path)), m.group(1), (int(m.group(2)), int(m.group(3))), float(m.group(4))


@pytest.mark.parametrize("suffix", ["gif", "mp4"])
def test_window_turntable_matches_facelift_render(qtbot, gl_window, photo, tmp_path, suffix) -> None:  # type: ignore[no-untyped-def]
    """Same settings, same video: the window's turntable (frames from the viewport) and
    ``facelift render`` (frames from the engine's rasteriser) go round the same camera path and
    through the same encoder: equal frame count, size, GIF frame durations, MP4 yuv420p and fps."""
    from engine.cameras import turntable_cameras
    from engine.cli import main as facelift

    frames, fps, size = 7, 12, 64
    window = gl_window(FakeFactory(count=5000))
    _reconstruct(qtbot, window, photo)
    ply = window.export_ply(tmp_path / "head.ply")
    viewer = window.viewport.viewer
    azimuths: list[float] = []
    render = viewer.render_orbit_frame

    def recording(azimuth: float, elevation: float) -> np.ndarray:
        azimuths.append(azimuth)
        return render(azimuth, elevation)

    viewer.render_orbit_frame = recording
    gui = tmp_path / f"window.{suffix}"
    job = window.start_turntable_export(TurntableSpec(gui, frames=frames, fps=fps, size=size))
    with qtbot.waitSignal(job.finished, timeout=60_000):
        pass
    cli = tmp_path / f"cli.{suffix}"
    args = [
        "render",
        str(ply),
        "-o",
        str(cli),
        "--frames",
        str(frames),
        "--fps",
        str(fps),
        "--size",
        str(size),
    ]
    assert facelift(args) == 0

    # one camera path: the window asked the viewport for the engine's turntable cameras
    centres = turntable_cameras(frames, size=size).centers
    engine_azimuths = np.degrees(np.arctan2(centres[:, 1], centres[:, 0])) % 360.0
    np.testing.assert_allclose(np.asarray(azimuths) % 360.0, engine_azimuths, atol=1e-4)
    # one encoder: the same frames, timing and format
    if suffix == "gif":
        assert _gif_timing(gui) == _gif_timing(cli) == (frames, (size, size), [80] * frames, 0)
    else:
        assert _mp4_timing(gui) == _mp4_timing(cli) == (frames, "yuv420p", (size, size), 12.0)
    assert not list(tmp_path.glob(".*"))


def test_the_empty_view_hint_fits_the_viewport_at_the_window_narrowest(qtbot, gl_window, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The empty viewport's hint is whole at the window's minimum width: no text touches the
    view's left or right edge (one 93-character line was cut at both edges below ~1280 px)."""
    import imageio.v3 as iio
    from PySide6.QtCore import QPoint

    window = gl_window(FakeFactory())
    narrowest = window.minimumSizeHint().width()
    window.resize(narrowest, 680)  # a 1280x720 screen's height, less the title bar
    qtbot.waitUntil(lambda: window.width() == narrowest, timeout=5000)
    shot = iio.imread(window.grab_screenshot(tmp_path / "window.png"))[..., :3]
    view = window.viewport.viewer.canvas.native
    x, y = window.mapFromGlobal(view.mapToGlobal(QPoint(0, 0))).toTuple()
    image = shot[y : y + view.height(), x : x + view.width()].astype(int)  # (H, W, 3) the 3D view
    background = np.median(image.reshape(-1, 3), axis=0)
    ink = np.abs(image - background).sum(axis=-1) > 60  # text pixels
    rows = np.flatnonzero(ink.any(axis=1))
    assert len(rows), "the hint is drawn"
    band = ink[rows.min() : rows.max() + 1]  # the hint's rows only (not toolbars drawn by Qt)
    edge = 6
    assert not band[:, :edge].any() and not band[:, -edge:].any(), "the hint runs off the view's edges"
