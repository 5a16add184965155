"""File → Open views… (issue 19): an existing set of N views through GS-LRM alone with the picked
model's cameras; the same Gaussians as the library given those cameras; a wrong count is one line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from model_folders import n_view_model
from PIL import Image

RIG = ["front", "left_side", "back", "right_side"]


@pytest.fixture
def rig_window(make_window, tmp_path: Path, conformance_dir: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("FACELIFT_WEIGHTS", str(conformance_dir))
    model = n_view_model(tmp_path / "rig-model", conformance_dir, RIG, elevation=20.0, radius=2.2)
    window = make_window()
    dialog = window.open_models_dialog()
    assert dialog.add_folder(model) and dialog.use_selected()
    dialog.close()
    return window


def _views(gslrm_inputs, n: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    six = gslrm_inputs["image_u8"][0]
    return np.stack([six[(3 * i + 1) % 6] for i in range(n)])


def test_open_a_multiview_folder_runs_gs_lrm_with_the_models_cameras(  # type: ignore[no-untyped-def]
    qtbot, rig_window, gslrm_inputs, tmp_path
) -> None:
    from engine.gslrm.reconstructor import GSLRMReconstructor

    window = rig_window
    views = _views(gslrm_inputs, 4)
    folder = tmp_path / "views"
    folder.mkdir()
    for name, i in (("back", 2), ("front", 0), ("right_side", 3), ("left_side", 1)):
        Image.fromarray(views[i]).save(folder / f"{name}.png")
    Image.fromarray(np.concatenate(list(views), axis=1)).save(folder / "multiview.png")

    with qtbot.waitSignal(window.run_finished, timeout=60_000):
        assert window.open_views(folder)
    result = window.result
    lrm = GSLRMReconstructor.from_weights(window.weights_dir, device="cpu")
    want = lrm.reconstruct(views, window.model.cameras, apply_filter=True)
    assert len(result.gaussians) == len(want) > 0
    np.testing.assert_allclose(result.gaussians.xyz, want.xyz, atol=1e-5)
    np.testing.assert_array_equal(window.views_strip.views, views)
    assert len(window.views_strip.thumbs) == 4
    assert window.status_message.text().startswith(f"GS-LRM: {len(want):,} Gaussians")
    (tmp_path / "exported").mkdir()
    written = window.export_views(tmp_path / "exported")  # named by the model's views
    stem = window.scene.stem(None)
    assert [p.name for p in written] == [f"{stem}_{i}_{n}.png" for i, n in enumerate(RIG)]


def test_a_wrong_number_of_views_is_one_line_naming_the_cameras(rig_window, gslrm_inputs, tmp_path) -> None:  # type: ignore[no-untyped-def]
    window = rig_window
    files = []
    for i, view in enumerate(_views(gslrm_inputs, 3)):
        files.append(tmp_path / f"v{i}.png")
        Image.fromarray(view).save(files[-1])
    assert not window.open_views(files)
    reason = window.last_failure_dialog.failure.reason
    cameras = window.model.root / "opencv_cameras.json"
    assert reason.startswith(f"{tmp_path}: 3 view image(s) for the 4 cameras of {cameras}; ")
    assert "\n" not in reason
    assert window.result is None and window.job is None
