"""Exports read the scene: the sliders count with or without a GL viewport; one Cancel for every job.

Issue 13's acceptance: (a) the same slider settings give the same filtered Gaussians in the PLY and
in the turntable from a window with a GL viewport and from one without; (b) after three turntable
exports the Run panel's Cancel button still cancels a reconstruction.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from fakes import FakeFactory

from engine.io.gaussians_file import load_gaussians
from engine.io.ply import save_ply
from facelift_desktop.turntable import TurntableSpec
from viewer.synthetic import synthetic_head

FRAMES, SIZE = 4, 128


@pytest.fixture
def head_ply(tmp_path: Path) -> Path:
    path = tmp_path / "head.ply"
    save_ply(synthetic_head(20_000, seed=2), path)
    return path


@pytest.fixture
def new_window(qtbot, settings_path, no_weights):  # type: ignore[no-untyped-def]
    """make(use_gl, factory=None) -> a shown MainWindow (the fake engine unless told)."""
    from window_factory import window_factory

    with window_factory(qtbot, settings_path) as make:

        def new(use_gl: bool, factory: FakeFactory | None = None):  # type: ignore[no-untyped-def]
            if use_gl:
                from viewer.canvas import configure_vispy

                configure_vispy()
            return make(size=(1100, 700), engine_factory=factory or FakeFactory(), use_gl=use_gl)

        yield new


def _wait_idle(qtbot, window, timeout: int = 60_000) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: window.job is None, timeout=timeout)


def _frame0(path: Path) -> np.ndarray:
    import imageio_ffmpeg

    gen = imageio_ffmpeg.read_frames(str(path))
    w, h = next(gen)["size"]
    return np.frombuffer(next(gen), np.uint8).reshape(h, w, 3)


def _silhouette(img: np.ndarray, background: tuple[float, float, float]) -> np.ndarray:
    bg = np.round(np.asarray(background) * 255)
    return np.abs(img.astype(float) - bg).max(axis=-1) > 40


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))


def _engine_front(g, background):  # type: ignore[no-untyped-def]
    """What frame 0 of a turntable shows (the front orbit camera), drawn by the engine."""
    from engine.cameras import turntable_cameras
    from engine.render import render, to_uint8

    cams = turntable_cameras(FRAMES, size=SIZE)
    return to_uint8(render(g, cams.c2w[0], cams.fxfycxcy[0], SIZE, SIZE, background).rgb)


@pytest.mark.gl
def test_sliders_filter_ply_and_turntable_alike_with_and_without_gl(
    qtbot, new_window, head_ply, tmp_path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    import engine.io.export as engine_export

    rendered: list[object] = []  # the Gaussians the engine's turntable (no GL) was given
    original = engine_export.write_turntable

    def spy(gaussians, *args, **kwargs):  # type: ignore[no-untyped-def]
        rendered.append(gaussians)
        return original(gaussians, *args, **kwargs)

    monkeypatch.setattr(engine_export, "write_turntable", spy)
    full = load_gaussians(head_ply)
    out: dict[bool, dict[str, object]] = {}
    for use_gl in (True, False):
        window = new_window(use_gl)
        assert (window.viewport.viewer is not None) == use_gl
        assert window.open_gaussians(head_ply)
        window.viewport.opacity_slider.setValue(40)  # keep opacity > 0.2
        window.viewport.crop_slider.setValue(14)  # a box of +-0.31: the head loses its outer part
        ply = window.export_ply(tmp_path / f"gl-{use_gl}.ply")
        video = tmp_path / f"gl-{use_gl}.mp4"
        with qtbot.waitSignal(window.export_done, timeout=60_000):
            window.start_turntable_export(TurntableSpec(video, frames=FRAMES, fps=FRAMES, size=SIZE))
        assert window.progress_panel.stage_label.text() == "Export done"
        out[use_gl] = {"ply": load_gaussians(ply), "frame": _frame0(video), "bg": window._background()}
        if use_gl:  # the GL frames are the viewport's: it draws exactly the filtered set
            viewer = window.viewport.viewer
            shown = viewer.gaussians.subset(viewer.visible_index)
            np.testing.assert_array_equal(shown.xyz, out[use_gl]["ply"].xyz)  # type: ignore[union-attr]
        assert f"of {len(full):,}" in window.count_label.text()
        window.shutdown()

    gl, no_gl = out[True], out[False]
    kept = gl["ply"]
    assert 0 < len(kept) < 0.9 * len(full)  # type: ignore[arg-type]
    np.testing.assert_array_equal(kept.xyz, no_gl["ply"].xyz)  # type: ignore[union-attr]
    np.testing.assert_array_equal(kept.sh_dc, no_gl["ply"].sh_dc)  # type: ignore[union-attr]
    (engine_input,) = rendered
    np.testing.assert_array_equal(engine_input.xyz, kept.xyz)  # type: ignore[attr-defined]
    # and the videos show the filtered head, not the whole one
    bg = gl["bg"]
    assert bg == no_gl["bg"]
    want = _silhouette(_engine_front(kept, bg), bg)  # type: ignore[arg-type]
    whole = _silhouette(_engine_front(full, bg), bg)  # type: ignore[arg-type]
    assert whole.sum() > 1.2 * want.sum()  # the filter visibly removes part of the head
    # the engine draws the turntable without GL: its frame is the reference's up to the video codec;
    # the viewport's rasteriser differs at the edges of a head 40 px wide
    for name, result, least in (("GL viewport", gl, 0.7), ("engine renderer", no_gl, 0.9)):
        seen = _silhouette(result["frame"], bg)  # type: ignore[arg-type]
        assert _iou(seen, want) > least, (name, _iou(seen, want), _iou(seen, whole))
        assert _iou(seen, want) > _iou(seen, whole) + 0.1, (name, _iou(seen, want), _iou(seen, whole))


@pytest.mark.parametrize("use_gl", [pytest.param(True, marks=pytest.mark.gl), False], ids=["gl", "no-gl"])
def test_cancel_reaches_a_reconstruction_after_three_turntable_exports(
    qtbot, new_window, photo, tmp_path, use_gl
) -> None:  # type: ignore[no-untyped-def]
    gate = threading.Event()
    factory = FakeFactory(count=3000)
    window = new_window(use_gl, factory)
    assert window.open_photo(photo)
    with qtbot.waitSignal(window.run_finished, timeout=30_000):
        assert window.reconstruct()
    first = window.result

    for i in range(3):
        target = tmp_path / f"turntable-{i}.mp4"
        with qtbot.waitSignal(window.export_done, timeout=60_000):
            window.start_turntable_export(TurntableSpec(target, frames=FRAMES, fps=FRAMES, size=64))
        assert target.stat().st_size > 0
        assert window.progress_panel.stage_label.text() == "Export done"
        assert not window.progress_panel.cancel_button.isEnabled()

    factory.engine("instant").gate = gate  # the next run waits at its second step
    try:
        assert window.reconstruct()
        qtbot.waitUntil(lambda: window.progress_panel.step_label.text() == "step 1/5", timeout=10_000)
        assert window.progress_panel.cancel_button.isEnabled()
        with qtbot.waitSignal(window.run_cancelled, timeout=10_000):
            qtbot.mouseClick(window.progress_panel.cancel_button, _left())
            gate.set()
    finally:
        gate.set()
    assert window.progress_panel.stage_label.text() == "Cancelled"
    assert window.status_message.text() == "Cancelled; nothing was changed."
    assert window.result is first and window.job is None
    assert window.reconstruct_action.isEnabled()


def _left():  # type: ignore[no-untyped-def]
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton
