"""The viewer's camera buttons are the picked model's cameras (issue 19): one button per view,
named by the model, and each puts the viewer where that camera is (azimuth, elevation, distance)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fakes import FakeFactory
from model_folders import n_view_model

pytestmark = pytest.mark.gl

RIG = ["cam_a", "cam_b", "cam_c", "cam_d", "cam_e"]


def test_camera_buttons_look_from_the_models_cameras(  # type: ignore[no-untyped-def]
    qtbot, settings_path, tmp_path, conformance_dir, monkeypatch, photo
) -> None:
    from window_factory import window_factory

    from viewer.canvas import configure_vispy
    from viewer.gl_setup import vispy_azimuth

    monkeypatch.setenv("FACELIFT_WEIGHTS", str(conformance_dir))
    model = n_view_model(tmp_path / "rig", conformance_dir, RIG, elevation=30.0, radius=3.1)
    configure_vispy()
    with window_factory(qtbot, settings_path) as new_window:
        window = new_window(size=(1100, 760), engine_factory=FakeFactory(count=20_000), use_gl=True)
        dialog = window.open_models_dialog()
        assert dialog.add_folder(model) and dialog.use_selected()
        dialog.close()
        assert list(window.viewport.view_buttons) == [*RIG, "top"]
        assert window.open_photo(photo)
        with qtbot.waitSignal(window.run_finished, timeout=20_000):
            window.reconstruct()
        viewer = window.viewport.viewer
        viewer.settle()
        images = []
        for i, name in enumerate(RIG):
            window.viewport.view_buttons[name].click()
            camera = viewer.camera
            want_azimuth = vispy_azimuth((270.0 + 72.0 * i) % 360.0)
            assert (camera.azimuth - want_azimuth + 180.0) % 360.0 == pytest.approx(180.0, abs=0.01)
            assert camera.elevation == pytest.approx(30.0, abs=0.01)
            assert camera.distance == pytest.approx(3.1, abs=1e-3)
            images.append(viewer.render_image().astype(np.int16))
        assert np.abs(images[0] - images[2]).mean() > 1.0  # another camera, another picture
        assert Path(window.settings.model_choice()) == model
