"""Issue 16 in the window: Open Gaussians reads SPZ and compressed PLY; Export offers every format
with its expected size and writes each through the engine's writers (re-read here)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.api import ReconstructionResult
from engine.io.formats import FORMATS, expected_size, format_named
from engine.io.gaussians_file import load_gaussians
from engine.weights.verify import human_size
from facelift_desktop.export_dialog import KINDS, ExportDialog
from viewer.synthetic import synthetic_head

SMALL_MESH = {"triangles": 2000, "resolution": 64, "image_size": 64}  # a fused mesh in seconds


def _write(g, path: Path) -> Path:  # type: ignore[no-untyped-def]
    from engine.io.formats import export_head

    export_head(g, path)
    return path


def _same_points(a: np.ndarray, b: np.ndarray, tol: float) -> None:
    """Equal (N,3) point sets up to ``tol`` whatever the order (compressed PLY sorts them)."""
    from scipy.spatial import cKDTree

    assert a.shape == b.shape
    assert cKDTree(b).query(a)[0].max() <= tol and cKDTree(a).query(b)[0].max() <= tol


def _with_result(qtbot, window, views: bool = True):  # type: ignore[no-untyped-def]
    """The window showing a 3000-Gaussian head (with six views), as a finished run delivers it."""
    result = ReconstructionResult(
        gaussians=synthetic_head(3000, seed=4),
        input_image=np.full((64, 64, 3), 200, np.uint8),
        views=np.full((6, 40, 40, 3), 90, np.uint8) if views else None,
        engine="facelift",
    )
    with qtbot.waitSignal(window.run_finished, timeout=5000):
        window.engine_worker.finished.emit(result)
    return result


def _answer(monkeypatch, kind: str, target: Path, **choices: object) -> list[ExportDialog]:  # type: ignore[no-untyped-def]
    """The Export dialog picks ``kind`` (and ``choices``) and OK; the save dialog answers ``target``."""
    from PySide6.QtWidgets import QFileDialog

    shown: list[ExportDialog] = []

    def exec_(dialog: ExportDialog) -> int:
        dialog.format.setCurrentIndex(dialog.format.findData(kind))
        for name, value in choices.items():
            box = getattr(dialog, name)
            if hasattr(box, "findData"):
                box.setCurrentIndex(box.findData(value))
            else:
                box.setValue(value)
        shown.append(dialog)
        return 1

    monkeypatch.setattr(ExportDialog, "exec", exec_)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(target))
    return shown


@pytest.mark.parametrize("suffix", [".spz", ".compressed.ply"])
def test_open_gaussians_reads_spz_and_compressed_ply(
    qtbot, make_window, tmp_path, monkeypatch, suffix
) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QFileDialog

    head = synthetic_head(4000, seed=1)
    path = _write(head, tmp_path / f"head{suffix}")
    window = make_window()
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    window.open_gaussians_action.trigger()
    assert window.last_failure_dialog is None
    shown = window.scene.shown
    assert shown is not None and len(shown) == 4000
    _same_points(shown.xyz, head.xyz, 2e-3)  # within the formats' quantisation
    assert window.count_label.text() == "Gaussians: 4,000"
    assert window.status_message.text() == f"head{suffix}: 4,000 Gaussians"
    assert window.export_action.isEnabled() and window.export_ply_action.isEnabled()


def test_the_export_dialog_lists_every_format_with_its_expected_size(qtbot, make_window, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    window = make_window()
    result = _with_result(qtbot, window)
    window.viewport.crop_slider.setValue(14)  # sizes are those of what the filter keeps
    kept = window.scene.filtered()
    assert len(kept) < len(result.gaussians)
    seen: list[ExportDialog] = []
    monkeypatch.setattr(ExportDialog, "exec", lambda dialog: seen.append(dialog) or 0)
    assert not window.export_dialog()
    (dialog,) = seen
    listed = [dialog.format.itemData(i) for i in range(dialog.format.count())]
    assert listed == list(KINDS) == [f.name for f in FORMATS] + ["turntable", "png", "views"]
    for fmt in FORMATS:
        dialog.format.setCurrentIndex(dialog.format.findData(fmt.name))
        size = expected_size(fmt, kept, "facelift")
        text = dialog.size_label.text()
        if fmt.name in ("ply", "compressed.ply", "splat"):
            assert text == human_size(size)  # exact for these layouts
        else:
            assert text.startswith(f"about {human_size(size)}"), text
    dialog.format.setCurrentIndex(dialog.format.findData("ply"))
    facelift_size = dialog.size_label.text()
    dialog.flavour.setCurrentIndex(dialog.flavour.findData("inria"))
    assert dialog.size_label.text() == human_size(expected_size(format_named("ply"), kept, "inria"))
    assert dialog.size_label.text() != facelift_size
    for kind in ("turntable", "png", "views"):
        dialog.format.setCurrentIndex(dialog.format.findData(kind))
        assert dialog.size_label.text().startswith("about ")
    dialog.format.setCurrentIndex(dialog.format.findData("turntable"))
    before = dialog.size_label.text()
    dialog.frames.setValue(dialog.frames.value() * 2)
    assert dialog.size_label.text() != before  # the estimate follows the options


@pytest.mark.parametrize("name", ["ply", "compressed.ply", "spz", "splat"])
def test_each_gaussian_format_exported_from_the_window_reads_back(
    qtbot, make_window, tmp_path, monkeypatch, name
) -> None:  # type: ignore[no-untyped-def]
    window = make_window()
    _with_result(qtbot, window)
    window.viewport.crop_slider.setValue(14)
    kept = window.scene.filtered()
    fmt = format_named(name)
    target = tmp_path / f"out{fmt.suffix}"
    _answer(monkeypatch, name, target, flavour="facelift")
    with qtbot.waitSignal(window.export_done, timeout=10_000):
        assert window.export_dialog()
    assert window.last_failure_dialog is None
    back = load_gaussians(target)
    assert len(back) == len(kept)
    # SPZ stores its own frame (RUB); our reader turns it back into FaceLift's
    _same_points(back.xyz, kept.xyz, 2e-3 if name in ("spz", "compressed.ply") else 1e-6)
    if name != "spz":  # what the dialog showed (the PLY header's length is estimated)
        assert abs(target.stat().st_size - expected_size(fmt, kept, "facelift")) <= 1000
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_mesh_exports_use_the_heads_own_mesh_from_a_reconstruction_folder(
    qtbot, make_window, tmp_path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    import trimesh

    from engine.io.mesh_file import save_mesh

    folder = tmp_path / "out" / "portrait"
    folder.mkdir(parents=True)
    _write(synthetic_head(3000), folder / "gaussians.ply")
    own = trimesh.creation.icosphere(subdivisions=3, radius=0.3)
    own.visual.vertex_colors = np.tile([200, 150, 120, 255], (len(own.vertices), 1)).astype(np.uint8)
    save_mesh(own, folder / "mesh.glb")
    window = make_window()
    assert window.open_gaussians(tmp_path / "out")  # the folder holding one reconstruction
    assert window.scene.mesh is not None and window._stem() == "out"
    for name in ("glb", "obj"):
        target = tmp_path / f"head.{name}"
        shown = _answer(monkeypatch, name, target)
        with qtbot.waitSignal(window.export_done, timeout=20_000):
            assert window.export_dialog()
        assert "the head's own mesh, 1,280 triangles" in shown[0].size_label.text()
        mesh = trimesh.load(target, force="mesh")
        assert len(mesh.faces) == len(own.faces)  # written as is, not fused
        assert mesh.visual.kind == "vertex"


@pytest.mark.slow
def test_a_fused_mesh_runs_as_a_job_the_run_panel_cancels(qtbot, make_window, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import trimesh

    from engine.mesh.fuse import MeshOptions

    window = make_window()
    _with_result(qtbot, window, views=False)
    assert window.scene.mesh is None
    target = tmp_path / "fused.glb"
    job = window.start_mesh_export(target, options=MeshOptions(**SMALL_MESH))
    qtbot.waitUntil(lambda: window.progress_panel.stage_label.text() == "Making the mesh", timeout=20_000)
    assert not window.export_action.isEnabled() and not window.reconstruct_action.isEnabled()
    with qtbot.waitSignal(job.cancelled, timeout=30_000):
        window.progress_panel.cancel_button.click()
    qtbot.waitUntil(lambda: window.job is None, timeout=5000)
    assert window.progress_panel.stage_label.text() == "Export cancelled"
    assert list(tmp_path.iterdir()) == [tmp_path / "settings"]  # no file, no temp file

    with qtbot.waitSignal(window.export_done, timeout=60_000):
        window.start_mesh_export(target, options=MeshOptions(**SMALL_MESH))
    mesh = trimesh.load(target, force="mesh")
    assert 1000 < len(mesh.faces) <= 2000 and mesh.visual.kind == "vertex"
    assert window.status_message.text() == f"Exported GLB: {target}"


def test_png_turntable_and_views_from_the_dialog_without_gl(
    qtbot, make_window, tmp_path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    import imageio.v3 as iio

    window = make_window()
    _with_result(qtbot, window)
    png = tmp_path / "view.png"
    _answer(monkeypatch, "png", png)
    with qtbot.waitSignal(window.export_done, timeout=30_000):
        assert window.export_dialog()
    image = iio.imread(png)
    assert image.shape[2] == 3 and image.std() > 5  # the engine drew the head (no GL viewport)

    video = tmp_path / "turn.gif"
    _answer(monkeypatch, "turntable", video, video_format="gif", frames=8, size=128)
    with qtbot.waitSignal(window.export_done, timeout=60_000):
        assert window.export_dialog()
    assert iio.imread(video, index=None).shape[:3] == (8, 128, 128)

    views = tmp_path / "views"
    views.mkdir()
    _answer(monkeypatch, "views", views)
    with qtbot.waitSignal(window.export_done, timeout=10_000):
        assert window.export_dialog()
    assert len(list(views.glob("head_*.png"))) == 6


@pytest.mark.gl
def test_an_opened_spz_is_drawn_in_the_gl_viewport(qtbot, settings_path, no_weights, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from window_factory import window_factory

    from viewer.canvas import BACKGROUNDS, configure_vispy

    configure_vispy()
    path = _write(synthetic_head(4000, seed=1), tmp_path / "head.spz")
    with window_factory(qtbot, settings_path) as make:
        window = make(size=(1100, 700), use_gl=True)
        assert window.open_gaussians(path)
        viewer = window.viewport.viewer
        assert viewer.gaussians is window.scene.shown and viewer.visible_count == 4000
        image = viewer.render_image()
        h, w = image.shape[:2]
        bg = np.round(np.array(BACKGROUNDS[viewer.background]) * 255)
        centre = image[h // 2 - 5 : h // 2 + 5, w // 2 - 5 : w // 2 + 5].astype(float)
        assert np.abs(centre - bg).max() > 40  # the head, not the background
