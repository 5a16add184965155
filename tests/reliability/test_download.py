"""Reliability: an interrupted weights download (connection lost half-way through a file).

The Hub is faked at the network edge only (weights_cases.FakeHub): huggingface_hub's real
hf_hub_download keeps partial files and resumes them; engine.weights.download_weights assembles
everything in ``<dir>.download`` and renames it into place only once it verifies.

Asserted: one-line WeightsError that says to run again to resume; the weights folder does not
exist and is not found (the app keeps using the instant engine); a complete folder elsewhere is
untouched and still used; the next call fetches only what is missing (the broken-off file from
where it stopped) and ends with a folder that verifies and loads; cancel keeps the staging
folder for a resume; a file that arrives whole but corrupt is never installed and is fetched
again next time; the desktop app's weights dialog reports the failure and resumes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from reliability_harness import assert_message, assert_nothing_partial
from weights_cases import CKPT, UNET_WEIGHTS, FakeHub, copy_weights

from engine import weights as w
from engine.api import Cancelled, CancelToken, WeightsError
from engine.engines import FaceLiftEngine, InstantEngine, make_engine
from engine.settings import EngineConfig

INTERRUPTED = str(UNET_WEIGHTS)  # a file in the middle of the file list


@pytest.fixture
def hub(
    conformance_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_home: Path
) -> FakeHub:
    monkeypatch.setenv("HF_HOME", str(isolated_home / "hf"))
    fake = FakeHub(copy_weights(conformance_dir, tmp_path / "hub-files"))
    fake.install(monkeypatch)
    return fake


def _tree_digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _assert_no_half_file_in_place(stage: Path, hub: FakeHub) -> None:
    """Every file at its final name in the staging folder is whole; partial data sits only in
    huggingface_hub's .incomplete files."""
    for name in hub.files:
        path = stage / name
        if path.exists():
            assert path.read_bytes() == hub.content(name), f"{name} is in place but not whole"


def _interrupted_download(hub: FakeHub, target: Path) -> str:
    hub.interrupt.add(INTERRUPTED)
    with pytest.raises(WeightsError) as info:
        w.download_weights(target)
    message = str(info.value)
    assert_message(message, "cannot download", "run again to resume", str(w.staging_dir(target)))
    return message


def test_interrupted_download_is_never_used_and_resumes(hub: FakeHub, isolated_home: Path) -> None:
    target = w.user_weights_dir()
    _interrupted_download(hub, target)
    first = hub.fetched()
    assert first[-1] == INTERRUPTED and len(first) < len(hub.files)  # stopped in the middle

    assert not target.exists()
    assert w.find_weights() is None
    assert isinstance(make_engine(EngineConfig()), InstantEngine)
    stage = w.staging_dir(target)
    _assert_no_half_file_in_place(stage, hub)
    assert not (stage / INTERRUPTED).exists()
    half = len(hub.content(INTERRUPTED)) // 2
    assert [p.stat().st_size for p in stage.rglob("*.incomplete")] == [half]

    hub.transfers.clear()
    assert w.download_weights(target) == target
    # only what was missing: the broken-off file from where it stopped, then the files not reached
    assert hub.transfers[0] == (INTERRUPTED, half)
    assert set(hub.fetched()) == set(hub.files) - set(first[:-1])
    assert all(start == 0 for _, start in hub.transfers[1:])

    assert w.verify_weights(target).ok
    assert _tree_digest(target) == {f: hub.etags[f] for f in hub.files}  # exactly the hub's files
    assert not stage.exists()
    assert_nothing_partial(target.parent)
    assert w.find_weights() == target and isinstance(make_engine(EngineConfig()), FaceLiftEngine)
    FaceLiftEngine(target, device="cpu").load()


def test_cli_weights_download_interrupted_one_line_exit_2(hub: FakeHub, tmp_path: Path, capsys) -> None:
    from reliability_harness import CliRun, assert_one_line_error

    from engine import cli

    target = tmp_path / "cli" / "weights"
    hub.interrupt.add(INTERRUPTED)
    rc = cli.main(["weights", "download", "--dir", str(target)])
    captured = capsys.readouterr()
    assert_one_line_error(CliRun(rc, captured.out, captured.err), 2, "cannot download", "run again to resume")
    assert not target.exists()
    assert cli.main(["weights", "download", "--dir", str(target)]) == 0
    assert w.verify_weights(target).ok


def test_complete_folder_elsewhere_is_untouched_and_still_used(
    hub: FakeHub, conformance_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    existing = copy_weights(conformance_dir, tmp_path / "existing-weights")
    monkeypatch.setenv(w.ENV_VAR, str(existing))
    before = _tree_digest(existing)
    _interrupted_download(hub, w.user_weights_dir())
    assert _tree_digest(existing) == before
    assert w.find_weights() == existing
    engine = make_engine(EngineConfig())
    assert isinstance(engine, FaceLiftEngine) and engine.weights_dir == existing


def test_incomplete_target_folder_is_left_as_it_was(
    hub: FakeHub, conformance_dir: Path, tmp_path: Path
) -> None:
    """A target that already holds an incomplete copy is not replaced by a half download."""
    target = copy_weights(conformance_dir, tmp_path / "weights")
    (target / CKPT).unlink()
    before = _tree_digest(target)
    _interrupted_download(hub, target)
    assert _tree_digest(target) == before
    assert w.download_weights(target) == target and w.verify_weights(target).ok


def test_cancel_during_download_keeps_staging_for_resume(hub: FakeHub, tmp_path: Path) -> None:
    target = tmp_path / "dl" / "weights"
    cancel = CancelToken()
    hub.cancel_on = (INTERRUPTED, cancel)
    with pytest.raises(Cancelled):
        w.download_weights(target, cancel=cancel)
    first = hub.fetched()
    assert first[-1] == INTERRUPTED  # the file being fetched when cancelled finishes, then it stops
    assert not target.exists() and w.staging_dir(target).is_dir()
    _assert_no_half_file_in_place(w.staging_dir(target), hub)

    hub.cancel_on = None
    hub.transfers.clear()
    w.download_weights(target)
    assert set(hub.fetched()) == set(hub.files) - set(first)
    assert w.verify_weights(target).ok and not w.staging_dir(target).exists()


def test_corrupt_file_that_arrives_whole_is_not_installed_and_is_fetched_again(
    hub: FakeHub, tmp_path: Path
) -> None:
    target = tmp_path / "dl" / "weights"
    hub.corrupt.add(str(CKPT))
    with pytest.raises(WeightsError) as info:
        w.download_weights(target)
    assert_message(str(info.value), "gslrm", "corrupt", "1 broken file(s) removed", "run again")
    assert not target.exists() and w.find_weights(None) is None
    assert not (w.staging_dir(target) / CKPT).exists()  # the bad file is not kept

    hub.corrupt.clear()
    hub.transfers.clear()
    w.download_weights(target)
    assert hub.fetched() == [str(CKPT)]
    assert w.verify_weights(target).ok


def test_gui_weights_dialog_interrupted_download_then_resume(gui_window, qtbot, hub: FakeHub) -> None:
    from facelift_desktop.dialogs import WeightsDialog

    window = gui_window()
    assert not window.parameters_panel.facelift_available
    changed: list[Path | None] = []

    def on_changed(path: Path | None) -> None:
        changed.append(path)
        window.refresh_weights()

    dialog = WeightsDialog(None, on_changed, window)
    hub.interrupt.add(INTERRUPTED)
    dialog.start_download()
    qtbot.waitUntil(lambda: dialog.status.text().startswith("Download failed"), timeout=60_000)
    assert_message(dialog.status.text(), "run again to resume")
    assert dialog.download_button.isEnabled() and not dialog.cancel_button.isEnabled()
    assert not w.user_weights_dir().exists()
    window.refresh_weights()
    assert not window.parameters_panel.facelift_available  # nothing half-downloaded is offered

    hub.transfers.clear()
    dialog.download_button.click()  # Download again: resumes
    qtbot.waitUntil(lambda: bool(changed) and changed[-1] is not None, timeout=60_000)
    assert hub.transfers[0] == (INTERRUPTED, len(hub.content(INTERRUPTED)) // 2)
    assert changed[-1] == w.user_weights_dir()
    assert window.parameters_panel.facelift_available and window.weights_dir == w.user_weights_dir()
    dialog.close()
