"""Photo rows of the reliability matrix (issue 9) through the desktop window: an unusable photo,
opened or dropped, shows a failure dialog naming the file and the problem and leaves the window
as it was; a photo with no face fails on Reconstruct, then runs with auto-crop off. The files are
made in tmp_path by photos_cases.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from photos_cases import (
    assert_face_found,
    astronaut,
    deny_reading,
    make_case,
    make_exif_rotated,
    make_no_face,
    make_unicode_path,
    make_unreadable,
    mean_diff,
)
from reliability_harness import assert_message
from window_factory import drop_file


def test_gui_bad_photos_leave_the_window_as_it_was(
    qtbot: Any, gui_window: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = gui_window()
    good = make_unicode_path(tmp_path)  # "my photos/Zoë 写真.png"
    assert window.open_photo(good)
    assert np.array_equal(window.photo, astronaut())
    assert window.parameters_panel.parameters().config.engine == "instant"  # no weights in this home
    assert window.reconstruct_action.isEnabled()
    locked = make_unreadable(tmp_path)
    deny_reading(monkeypatch, locked)
    cases: list[tuple[Path, tuple[str, ...]]] = [
        (make_case(name).make(tmp_path), make_case(name).problem)
        for name in ("empty", "random-bytes", "truncated-jpeg", "bomb", "folder", "1x1")
    ]
    cases.append((locked, ("cannot be read (permission denied)",)))
    for i, (path, words) in enumerate(cases):
        window.last_failure_dialog = None
        if i % 2:
            drop_file(window, path)
        else:
            assert window.open_photo(path) is False
        dialog = window.last_failure_dialog
        assert dialog is not None, path
        assert dialog.windowTitle() == "Cannot open the photo"
        assert_message(dialog.reason_label.text(), str(path), *words)
        assert window.photo_path == good  # the previous photo is still the one loaded
        assert window.reconstruct_action.isEnabled()
        assert window.progress_panel.reconstruct_button.isEnabled()
    # A photo stored sideways (EXIF orientation 6) is dropped: it shows and runs upright.
    rotated = make_exif_rotated(tmp_path, 6)
    drop_file(window, rotated)
    assert window.photo_path == rotated and mean_diff(window.photo, astronaut()) < 4
    with qtbot.waitSignal(window.run_finished, timeout=60_000) as finished:
        assert window.reconstruct()
    result = finished.args[0]
    assert window.result is result
    assert_face_found(result)


def test_gui_no_face_fails_then_auto_crop_off_succeeds(qtbot: Any, gui_window: Any, tmp_path: Path) -> None:
    window = gui_window()
    cup = make_no_face(tmp_path)
    assert window.open_photo(cup)  # a fine image: the face is looked for when reconstructing
    window.parameters_panel.auto_crop.setChecked(True)
    with qtbot.waitSignal(window.run_failed, timeout=60_000):
        assert window.reconstruct()
    dialog = window.last_failure_dialog
    assert dialog is not None and dialog.windowTitle() == "Reconstruction failed"
    assert_message(dialog.reason_label.text(), str(cup), "no face found — try without auto-crop")
    assert window.result is None and window.reconstruct_action.isEnabled()
    window.parameters_panel.auto_crop.setChecked(False)
    with qtbot.waitSignal(window.run_finished, timeout=60_000) as finished:
        assert window.reconstruct()
    result = finished.args[0]
    assert any("auto-crop off" in n for n in result.info["notes"])
    assert window.result is result and len(result.gaussians) > 0
