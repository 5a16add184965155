"""The scene model on its own: no Qt, no VisPy -- the filter, the events, what exports read."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from export_sets import normal_set

from engine.api import FaceLiftError, ReconstructionResult
from engine.gaussians import Gaussians
from facelift_desktop.scene import FilterSettings, Scene
from viewer.synthetic import synthetic_head


def _result(g: Gaussians) -> ReconstructionResult:
    return ReconstructionResult(gaussians=g, input_image=None)


def test_filter_mask_is_what_gaussians_filter_keeps() -> None:
    g = normal_set(2000)
    settings = FilterSettings(opacity_threshold=0.4, max_scale=0.06, crop_box=(-1, 1, -1, 1, -1, 1))
    kept = g.filter(opacity_thres=0.4, scaling_thres=0.06, floater_thres=None, crop_bbx=(-1, 1, -1, 1, -1, 1))
    mask = settings.mask(g)
    assert 0 < mask.sum() < len(g)
    np.testing.assert_array_equal(g.xyz[mask], kept.xyz)
    assert FilterSettings().mask(g).all() and not FilterSettings().active


def test_exports_read_the_filtered_result_and_listeners_hear_each_change() -> None:
    scene = Scene()
    heard: list[str] = []
    scene.shown_changed.connect(lambda s: heard.append("shown"))
    scene.result_changed.connect(lambda s: heard.append("result"))
    scene.filter_changed.connect(lambda s: heard.append("filter"))
    with pytest.raises(FaceLiftError, match="nothing to export"):
        scene.filtered()

    head = synthetic_head(5000)
    scene.set_result(_result(head))
    assert heard == ["result", "shown"] and scene.filtered() is head  # no filter: the result itself
    upper = FilterSettings(crop_box=(-1, 1, -1, 1, 0.0, 1))
    scene.set_filter(upper)
    scene.set_filter(upper)  # the same filter again: no event
    assert heard[-1] == "filter" and heard.count("filter") == 1
    kept = scene.filtered()
    assert 0 < len(kept) < len(head)
    np.testing.assert_array_equal(
        kept.xyz,
        head.filter(
            opacity_thres=None, scaling_thres=None, floater_thres=None, crop_bbx=(-1, 1, -1, 1, 0.0, 1)
        ).xyz,
    )

    # a preview is shown over the result, filtered the same way; exports still read the result
    preview = synthetic_head(800, seed=3)
    scene.set_preview(preview)
    assert scene.shown is preview and len(scene.visible_mask()) == 800
    assert len(scene.filtered()) == len(kept)
    assert scene.end_preview() and scene.shown is head and not scene.end_preview()

    scene.set_filter(FilterSettings(opacity_threshold=1.0))  # keeps nothing
    with pytest.raises(FaceLiftError, match="keeps no Gaussians"):
        scene.filtered()


def test_the_scene_model_imports_no_gui_toolkit() -> None:
    code = (
        "import sys, facelift_desktop.scene\n"
        "bad = [m for m in ('PySide6', 'vispy', 'torch') if m in sys.modules]\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_export_names_come_from_the_opened_file_or_the_photo(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    scene = Scene()
    assert scene.stem(Path("in/portrait.png")) == "portrait" and scene.stem() == "head"
    for name, stem in (("a.compressed.ply", "a"), ("b.spz", "b"), ("c.PLY", "c"), ("out", "out")):
        scene.set_result(
            ReconstructionResult(synthetic_head(10), None, info={"source": str(tmp_path / name)})
        )
        assert scene.stem(Path("in/portrait.png")) == stem
