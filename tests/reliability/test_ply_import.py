"""PLY import rows of the reliability matrix (issue 9): every hostile PLY of the foundation tests
(tests/hostile_ply.py) through the engine's loader, `facelift render` and the GUI's Open Gaussians.

Each case: an InputError whose one line names the file and the problem; the CLI exits 2 with that
line and no traceback, and writes nothing; the GUI shows "Cannot open the Gaussians" with the
line, keeps the scene it had, and opens a good file next.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hostile_ply import CASE_IDS, HOSTILE_CASES, HostileCase, good_ply, write_case  # tests/hostile_ply.py
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QFileDialog
from reliability_harness import assert_message, assert_nothing_partial, assert_one_line_error, run_cli

from engine import cli
from engine.api import InputError
from engine.gaussians import Gaussians
from engine.io.gaussians_file import load_gaussians
from engine.io.ply import load_ply, save_ply
from engine.io.splat import save_splat

BAD_SPLATS: dict[str, tuple[bytes, str]] = {
    "splat_odd_size": (bytes(33), "multiple of 32"),
    "splat_nan_position": (np.full(8, np.nan, "<f4").tobytes(), "non-finite"),
}


def _head(n: int, seed: int) -> Gaussians:
    rng = np.random.default_rng(seed)
    return Gaussians(
        xyz=rng.normal(0, 0.3, size=(n, 3)),
        sh_dc=rng.normal(size=(n, 3)),
        sh_rest=np.zeros((n, 0, 3)),
        log_scales=rng.normal(-4, 0.5, size=(n, 3)),
        quats=rng.normal(size=(n, 4)),
        opacity_logits=rng.normal(size=n),
    )


@pytest.fixture
def good_files(tmp_path: Path) -> tuple[Path, Path]:
    """A good 300-Gaussian PLY and a good 200-Gaussian .splat."""
    ply, splat = tmp_path / "good.ply", tmp_path / "good.splat"
    save_ply(_head(300, 1), ply)
    save_splat(_head(200, 2), splat)
    return ply, splat


# ---- (a) the engine's loader ---------------------------------------------------------------


@pytest.mark.parametrize("case", HOSTILE_CASES, ids=CASE_IDS)
def test_engine_load_gaussians_refuses_hostile_ply(tmp_path: Path, case: HostileCase) -> None:
    path = write_case(tmp_path, case)
    with np.errstate(over="ignore"), pytest.raises(InputError) as info:
        load_gaussians(path)
    assert_message(str(info.value), str(path), *case.fragments)


@pytest.mark.parametrize("name", sorted(BAD_SPLATS))
def test_engine_load_gaussians_refuses_bad_splat(tmp_path: Path, name: str) -> None:
    data, fragment = BAD_SPLATS[name]
    path = tmp_path / f"{name}.splat"
    path.write_bytes(data)
    with pytest.raises(InputError) as info:
        load_gaussians(path)
    assert_message(str(info.value), str(path), fragment)


def test_engine_unreadable_ply_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Root reads any file, so the permission error is injected where the loader opens it."""
    import builtins

    from engine.io import ply as ply_mod

    path = tmp_path / "locked.ply"
    path.write_bytes(good_ply(3))
    real_open = builtins.open

    def refusing_open(file, *args, **kwargs):  # type: ignore[no-untyped-def]
        if Path(file) == path:
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(ply_mod, "open", refusing_open, raising=False)
    with pytest.raises(InputError) as info:
        load_ply(path)
    assert_message(str(info.value), str(path), "permission denied")


# ---- (b) the CLI: facelift render BAD.ply -o x.png -----------------------------------------


@pytest.mark.parametrize("case", HOSTILE_CASES, ids=CASE_IDS)
def test_cli_render_hostile_ply_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: HostileCase
) -> None:
    path = write_case(tmp_path, case)
    out = tmp_path / "out" / "x.png"
    out.parent.mkdir()
    with np.errstate(over="ignore"):
        rc = cli.main(["render", str(path), "-o", str(out), "--size", "64"])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("facelift: error:"), err
    assert_message(lines[0], str(path), *case.fragments)
    assert not out.exists()
    assert_nothing_partial(out.parent, allowed=())
    assert list(out.parent.iterdir()) == []


@pytest.mark.parametrize("name", ["huge_count_le", "endless_header"])
def test_cli_render_hostile_ply_in_a_real_process(tmp_path: Path, name: str) -> None:
    """The same through a fresh `facelift` process: what a user's terminal shows."""
    case = next(c for c in HOSTILE_CASES if c.name == name)
    path = write_case(tmp_path, case)
    out = tmp_path / "x.png"
    run = run_cli("render", path, "-o", out, "--size", "64")
    assert_one_line_error(run, 2, str(path), *case.fragments)
    assert not out.exists()
    assert_nothing_partial(tmp_path)


# ---- (c) the GUI: File > Open Gaussians, drag and drop -------------------------------------


def _open_ok(window, path: Path, count: int) -> None:  # type: ignore[no-untyped-def]
    assert window.open_gaussians(path), (
        window.last_failure_dialog and window.last_failure_dialog.failure.reason
    )
    assert window.result is not None and len(window.result.gaussians) == count
    assert window.count_label.text() == f"Gaussians: {count:,}"


def _assert_refused(window, path: Path, before, fragments: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    window.last_failure_dialog = None
    with np.errstate(over="ignore"):
        assert window.open_gaussians(path) is False
    dialog = window.last_failure_dialog
    assert dialog is not None, f"{path.name}: no failure dialog"
    assert dialog.windowTitle() == "Cannot open the Gaussians"
    assert_message(dialog.reason_label.text(), str(path), *fragments)
    assert window.result is before, f"{path.name}: the scene changed"
    assert window.count_label.text() == f"Gaussians: {len(before.gaussians):,}"


def test_gui_hostile_files_show_a_dialog_and_keep_the_scene(gui_window, good_files, tmp_path: Path) -> None:
    """Every hostile PLY and .splat, one after another in one window; a good file opens after each."""
    good_ply_path, good_splat = good_files
    window = gui_window()
    _open_ok(window, good_ply_path, 300)
    bad_dir = tmp_path / "bad"
    bad_dir.mkdir()
    hostile = [(write_case(bad_dir, c), c.fragments) for c in HOSTILE_CASES]
    for name, (data, fragment) in BAD_SPLATS.items():
        (bad_dir / f"{name}.splat").write_bytes(data)
        hostile.append((bad_dir / f"{name}.splat", (fragment,)))
    hostile.append((bad_dir / "missing.ply", ("no such file",)))
    hostile.append((bad_dir, ("folder",)))
    (bad_dir / "zero.ply").write_bytes(good_ply(0))
    hostile.append((bad_dir / "zero.ply", ("no Gaussians",)))
    for i, (path, fragments) in enumerate(hostile):
        before = window.result
        _assert_refused(window, path, before, fragments)
        if i % 8 == 7:  # the app is still usable: a good file opens
            _open_ok(window, good_splat if i % 16 == 7 else good_ply_path, 200 if i % 16 == 7 else 300)
    _open_ok(window, good_splat, 200)


def test_gui_open_gaussians_menu_shortcut_and_export(
    gui_window, good_files, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """File > Open Gaussians… (Ctrl+Shift+O) opens a PLY that exports like a reconstruction."""
    good_ply_path, _ = good_files
    window = gui_window()
    action = window.open_gaussians_action
    assert action.text().replace("&", "") == "Open Gaussians…"
    assert action.shortcut().toString() == "Ctrl+Shift+O"
    assert action in window.menuBar().actions()[0].menu().actions()
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(good_ply_path), ""))
    assert not window.export_ply_action.isEnabled()
    action.trigger()
    assert window.result is not None and window.result.input_image is None
    assert window.count_label.text() == "Gaussians: 300"
    # a result with no photo and no views: Gaussians exports on, the six views off, nothing crashes
    assert window.export_ply_action.isEnabled() and window.export_splat_action.isEnabled()
    assert not window.export_views_action.isEnabled()
    assert window.views_strip.views is None and "good.ply" in window.views_strip.note.text()
    assert "good.ply" in window.status_message.text()
    assert window._stem() == "good"
    out = tmp_path / "exported"
    out.mkdir()
    window.export_ply(out / "again.ply")
    window.export_splat(out / "again.splat")
    np.testing.assert_array_equal(load_ply(out / "again.ply").xyz, load_ply(good_ply_path).xyz)
    assert len(load_gaussians(out / "again.splat")) == 300
    assert_nothing_partial(out, allowed=("again.ply", "again.splat"))


def _drop(window, path: Path) -> None:  # type: ignore[no-untyped-def]
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(
        QPointF(QPoint(10, 10)),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(event)


def test_gui_drop_opens_ply_and_splat_as_gaussians_and_photos_as_photos(
    gui_window, good_files, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from engine.io.images import save_png

    good_ply_path, good_splat = good_files
    window = gui_window()
    _drop(window, good_splat)
    assert window.result is not None and len(window.result.gaussians) == 200
    upper = tmp_path / "HEAD.PLY"
    upper.write_bytes(good_ply_path.read_bytes())
    _drop(window, upper)
    assert len(window.result.gaussians) == 300
    photo = tmp_path / "face.png"
    save_png(np.full((40, 40, 3), 128, np.uint8), photo)
    _drop(window, photo)
    assert window.photo_path == photo and window.photo is not None
    assert len(window.result.gaussians) == 300  # a photo does not replace the scene
    bad = write_case(tmp_path, HOSTILE_CASES[0])
    before = window.result
    _drop(window, bad)
    assert window.last_failure_dialog is not None
    assert window.last_failure_dialog.windowTitle() == "Cannot open the Gaussians"
    assert window.result is before
