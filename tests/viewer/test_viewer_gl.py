"""The VisPy viewport under Xvfb + Mesa: pixel probes on renders, not golden images."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from facelift_desktop.scene import FilterSettings
from viewer.synthetic import synthetic_head

pytestmark = pytest.mark.gl


@pytest.fixture
def viewer(qapp):  # type: ignore[no-untyped-def]
    from viewer.canvas import GaussianViewer

    v = GaussianViewer(size=(320, 240), show=True)
    yield v
    v.close()


def _is_background(pixels: np.ndarray, background: tuple[float, float, float]) -> np.ndarray:
    bg = np.round(np.array(background) * 255)
    return np.abs(pixels.astype(float) - bg).max(axis=-1) <= 2


def test_front_view_has_the_head_in_the_centre(viewer) -> None:  # type: ignore[no-untyped-def]
    from viewer.canvas import BACKGROUNDS

    viewer.set_gaussians(synthetic_head(20_000), reset_view=True)
    img = viewer.render_image()
    assert img.shape == (240, 320, 3)
    bg = BACKGROUNDS["dark"]
    assert not _is_background(img[110:130, 150:170], bg).any()
    for corner in (img[:10, :10], img[:10, -10:], img[-10:, :10], img[-10:, -10:]):
        assert _is_background(corner, bg).all()
    # the face (toward -Y) is skin-coloured; the back of the head is hair
    assert img[120, 160, 0] > 150
    viewer.set_view("back")
    back = viewer.render_image()
    assert back[120, 160, 0] < 120


def test_orbiting_changes_the_image_and_presets_restore_it(viewer) -> None:  # type: ignore[no-untyped-def]
    viewer.set_gaussians(synthetic_head(20_000), reset_view=True)
    front = viewer.render_image()
    viewer.orbit(40.0)
    turned = viewer.render_image()
    head = (slice(80, 160), slice(120, 200))
    assert float(np.abs(front[head].astype(int) - turned[head].astype(int)).mean()) > 8.0
    viewer.reset_view()
    again = viewer.render_image()
    assert int(np.abs(front.astype(int) - again.astype(int)).max()) <= 2


def test_filters_change_the_count_without_recomputing(viewer) -> None:  # type: ignore[no-untyped-def]
    head = synthetic_head(20_000)
    viewer.set_gaussians(head, reset_view=True)
    assert viewer.visible_count == 20_000
    full = viewer.render_image()
    arrays = viewer._arrays
    viewer.set_visible(FilterSettings(crop_box=(-1, 1, -1, 1, 0.0, 1)).mask(head))  # the upper half
    assert 0 < viewer.visible_count < 20_000
    assert viewer.gaussians is head and viewer._arrays is arrays  # nothing computed again
    cropped = viewer.render_image()
    assert viewer.drawn_count == viewer.visible_count
    lower = (slice(125, 160), slice(135, 185))  # the lower half of the head (chin, mouth)
    assert float(np.abs(full[lower].astype(int) - cropped[lower].astype(int)).mean()) > 20


def test_moving_draws_a_subset_and_still_draws_everything(viewer, qtbot) -> None:  # type: ignore[no-untyped-def]
    viewer.set_gaussians(synthetic_head(50_000), reset_view=True)
    viewer.render_image()
    drawn_while_moving = []
    for _ in range(100):  # a drag: small turns, one frame each
        viewer._lod_budget = 5_000  # as if the measured frame cost were high
        viewer.orbit(1.0)
        viewer.canvas.update()
        qtbot.wait(30)
        drawn_while_moving.append(viewer.drawn_count)
        if viewer.drawn_count < 50_000:
            break
    assert viewer.moving and 0 < drawn_while_moving[-1] < 10_000
    qtbot.waitUntil(lambda: not viewer.busy, timeout=20_000)
    assert viewer.drawn_count == 50_000


def test_background_toggle_and_close_stop_the_sort_thread(qapp) -> None:  # type: ignore[no-untyped-def]
    from viewer.canvas import BACKGROUNDS, GaussianViewer

    before = {t.name for t in threading.enumerate()}
    v = GaussianViewer(size=(160, 120), show=True)
    v.set_gaussians(synthetic_head(2000))
    assert v.toggle_background() == "light"
    img = v.render_image()
    assert _is_background(img[:5, :5], BACKGROUNDS["light"]).all()
    assert "splat-depth-sort" in {t.name for t in threading.enumerate()}
    v.close()
    assert {t.name for t in threading.enumerate()} == before


def test_expanded_quads_match_instanced_drawing(qapp) -> None:  # type: ignore[no-untyped-def]
    """The fallback for GL bindings without instancing draws the same picture."""
    from viewer.canvas import GaussianViewer

    head = synthetic_head(10_000)
    images = []
    for instanced in (True, False):
        v = GaussianViewer(size=(200, 160), show=True, instanced=instanced)
        assert v.splat.instanced is instanced
        v.set_gaussians(head, reset_view=True)
        v.orbit(30.0)
        images.append(v.render_image().astype(int))
        v.close()
    assert images[0].std() > 10
    assert float(np.abs(images[0] - images[1]).mean()) < 0.5


def test_without_pyopengl_the_viewer_falls_back_to_expanded_quads(tmp_path) -> None:
    """A build without PyOpenGL (VisPy's gl2 binding only) still shows the head."""
    import subprocess
    import sys

    script = """
import sys
sys.modules["OpenGL"] = None  # as if PyOpenGL were not installed
from viewer.canvas import GaussianViewer
from viewer.synthetic import synthetic_head
v = GaussianViewer(size=(160, 120), show=True)
v.set_gaussians(synthetic_head(5000), reset_view=True)
img = v.render_image()
print(v.splat.instanced, int(img[60, 80, 0]), int(img[2, 2, 0]))
v.close()
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-1500:]
    instanced, centre, corner = proc.stdout.split()[-3:]
    assert instanced == "False" and int(centre) > 150 and int(corner) < 40


def test_big_sets_are_drawn_progressively_once_still(qapp, qtbot) -> None:  # type: ignore[no-untyped-def]
    """Chunked offscreen drawing ends in exactly the picture of drawing everything at once."""
    from viewer.canvas import GaussianViewer

    v = GaussianViewer(size=(240, 180), show=True, progressive_chunk=8_000)
    try:
        v.set_gaussians(synthetic_head(30_000), reset_view=True)
        v.canvas.update()
        qtbot.waitUntil(lambda: v._progress is not None, timeout=10_000)  # it started in chunks
        qtbot.waitUntil(lambda: not v.busy, timeout=20_000)
        assert v.still_image.visible and v.drawn_count == 30_000
        v.canvas.events.resize(size=v.canvas.size)  # a resize drops the image and draws it again
        assert not v.still_image.visible
        qtbot.waitUntil(lambda: v.still_image.visible and not v.busy, timeout=20_000)
        shown = v.canvas.render(alpha=False)[..., :3].astype(int)  # what the window shows now
        direct = v.render_image().astype(int)  # every splat in one draw
        assert not v.still_image.visible
        assert direct.std() > 10
        assert float(np.abs(shown - direct).mean()) < 0.5
        v.orbit(5.0)
        v.canvas.update()
        qtbot.waitUntil(lambda: v.moving, timeout=5_000)
        assert not v.still_image.visible  # moving shows live splats again
    finally:
        v.close()


def test_orbit_frames_come_from_the_engine_orbit_camera(viewer) -> None:  # type: ignore[no-untyped-def]
    """render_orbit_frame(azimuth, elevation) takes engine.geometry's orbit angles: the VisPy eye
    sits where engine.geometry.orbit_position puts the camera, and the user's view comes back."""
    from engine import geometry

    viewer.set_gaussians(synthetic_head(2_000), reset_view=True)
    viewer.orbit(25.0, 10.0)
    before = viewer.camera.get_state()
    eyes = []
    render_square = viewer.render_square

    def spy() -> np.ndarray:
        eyes.append(np.asarray(viewer.camera.transform.map([0.0, 0.0, 0.0])[:3]))
        return render_square()

    viewer.render_square = spy
    poses = [(geometry.FRONT_AZIMUTH, 0.0), (315.0, 20.0), (90.0, -10.0)]
    for azimuth, elevation in poses:
        frame = viewer.render_orbit_frame(azimuth, elevation)
        assert frame.shape == (240, 240, 3)
    want = [geometry.orbit_position(a, e) for a, e in poses]
    np.testing.assert_allclose(np.stack(eyes), np.stack(want), atol=1e-5)
    assert viewer.camera.get_state() == before
