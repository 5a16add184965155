"""Weights dialog (find / verify / download with progress and cancel) and the failure dialog."""

from __future__ import annotations

import threading
from pathlib import Path

from engine.api import CancelToken, ProgressCallback, ProgressEvent, WeightsError
from facelift_desktop.dialogs import WeightsDialog


def _dialog(qtbot, download, current=None):  # type: ignore[no-untyped-def]
    changes: list[Path | None] = []
    dialog = WeightsDialog(current, changes.append, download=download)
    qtbot.addWidget(dialog)
    return dialog, changes


def test_no_weights_says_instant_still_works(qtbot, no_weights) -> None:  # type: ignore[no-untyped-def]
    dialog, _ = _dialog(qtbot, download=None)
    assert "Instant engine works without them" in dialog.status.text()
    sources = [dialog.where.topLevelItem(i).text(0) for i in range(dialog.where.topLevelItemCount())]
    assert sources == ["FACELIFT_WEIGHTS", "user data folder"]
    assert "non-commercial research use only" in dialog.notice.text()


def test_offline_download_is_a_clear_message(qtbot, no_weights) -> None:  # type: ignore[no-untyped-def]
    def offline(target, on_progress: ProgressCallback, cancel: CancelToken):  # type: ignore[no-untyped-def]
        raise WeightsError("cannot reach huggingface.co (offline?): download the weights on another machine")

    dialog, changes = _dialog(qtbot, offline)
    dialog.start_download()
    qtbot.waitUntil(lambda: dialog.status.text().startswith("Download failed"), timeout=5000)
    assert "offline" in dialog.status.text()
    assert dialog.download_button.isEnabled() and not dialog.cancel_button.isEnabled()
    assert changes == []


def test_download_progress_and_cancel(qtbot, no_weights) -> None:  # type: ignore[no-untyped-def]
    started = threading.Event()

    def slow(target, on_progress: ProgressCallback, cancel: CancelToken):  # type: ignore[no-untyped-def]
        for i in range(1, 1000):
            on_progress(ProgressEvent("download", i, 1000, f"file {i}/1000"))
            started.set()
            cancel.raise_if_cancelled()
            threading.Event().wait(0.01)

    dialog, _ = _dialog(qtbot, slow)
    dialog.start_download()
    qtbot.waitUntil(lambda: dialog.bar.value() > 0, timeout=5000)
    assert dialog.status.text().startswith("file ")
    dialog.cancel_download()
    qtbot.waitUntil(lambda: "cancelled" in dialog.status.text(), timeout=5000)
    assert dialog.download_button.isEnabled()
    assert dialog._task is None  # the download thread was joined


def test_a_finished_download_is_verified_and_reported(qtbot, no_weights, tmp_path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "weights"

    def fake(target_dir, on_progress: ProgressCallback, cancel: CancelToken) -> Path:  # type: ignore[no-untyped-def]
        target.mkdir()
        return target

    dialog, changes = _dialog(qtbot, fake, current=None)
    dialog.start_download()
    qtbot.waitUntil(lambda: dialog.current == target, timeout=5000)
    # an empty folder is not usable: the per-component report says so, the engine stays off
    problems = [
        dialog.components.topLevelItem(i).text(1) for i in range(dialog.components.topLevelItemCount())
    ]
    assert problems and "missing" in problems
    assert changes == [None]
