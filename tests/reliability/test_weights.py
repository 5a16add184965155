"""Reliability matrix, weights rows: every broken weights folder ends in one line that names the
file and the problem -- through the engine API, verify_weights, the CLI and the desktop app --
and a checkpoint whose pickle would run code is refused without running it.

The cases are in weights_cases.py (each breaks one thing in a copy of the tiny conformance
weights, which otherwise run end to end in seconds).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from reliability_harness import CliRun, assert_message, assert_nothing_partial, assert_one_line_error, run_cli
from weights_cases import CASE_IDS, CASES, WeightsCase, assert_names_problem, make_broken, marker_of

from engine import cli
from engine.api import ReconstructionRequest, WeightsError
from engine.engines import FaceLiftEngine
from engine.settings import RunOptions
from engine.weights import verify_weights

REPO = Path(__file__).resolve().parents[2]
PORTRAIT = REPO / "resources" / "samples" / "astronaut.png"
BY_NAME = {c.name: c for c in CASES}


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    """A small photo: the weights fail before it is ever looked at."""
    from PIL import Image

    path = tmp_path / "photos" / "face.png"
    path.parent.mkdir()
    Image.fromarray(np.full((64, 64, 3), 200, np.uint8)).save(path)
    return path


def _assert_nothing_ran(case: WeightsCase, root: Path) -> None:
    if case.runs_code:
        assert not marker_of(root).exists(), "the checkpoint's pickle ran code"


def _verify_problem_line(case: WeightsCase, root: Path) -> str:
    report = verify_weights(root)
    assert not report.ok
    bad = [c for c in report.problems if c.name == case.component]
    assert bad, f"{case.component} not reported: {report.lines()}"
    for word in case.verify_problem:
        assert word.lower() in bad[0].message.lower(), bad[0].message
    summary = report.summary()
    assert_message(summary, str(root), case.component)
    return bad[0].message


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_engine_api_load_run_and_verify(case: WeightsCase, conformance_dir: Path, tmp_path: Path) -> None:
    root = make_broken(case, conformance_dir, tmp_path)
    engine = FaceLiftEngine(root, device="cpu", preview=False)
    with pytest.raises(WeightsError) as info:
        engine.load()
    assert_names_problem(str(info.value), case, root)

    # run() loads lazily: the same error (for a broken GS-LRM file, after the diffusion stage)
    request = ReconstructionRequest(
        np.full((64, 64, 3), 200, np.uint8), RunOptions(preprocess=False, num_steps=1)
    )
    fresh = FaceLiftEngine(root, device="cpu", preview=False)
    with pytest.raises(WeightsError) as info:
        fresh.run(request)
    assert_names_problem(str(info.value), case, root)
    assert fresh._mv is None and fresh._lrm is None  # failed before any model ran, nothing kept

    _verify_problem_line(case, root)
    _assert_nothing_ran(case, root)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_cli_reconstruct_exits_2_with_one_line(
    case: WeightsCase, conformance_dir: Path, tmp_path: Path, photo: Path, capsys, isolated_home: Path
) -> None:
    root = make_broken(case, conformance_dir, tmp_path)
    out = tmp_path / "out"
    argv = ["reconstruct", str(photo), "-o", str(out), "--engine", "facelift", "--weights", str(root)]
    rc = cli.main([*argv, "--frames", "0"])
    captured = capsys.readouterr()
    line = assert_one_line_error(CliRun(rc, captured.out, captured.err), 2, str(root / case.culprit))
    assert any(p.lower() in line.lower() for p in case.problem), line
    assert not out.exists()
    assert_nothing_partial(tmp_path)
    _assert_nothing_ran(case, root)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_cli_weights_verify_lists_the_problem(
    case: WeightsCase, conformance_dir: Path, tmp_path: Path, capsys
) -> None:
    root = make_broken(case, conformance_dir, tmp_path)
    assert cli.main(["weights", "verify", "--weights", str(root)]) == 2
    out = capsys.readouterr().out
    rows = [ln for ln in out.splitlines() if ln.strip().startswith(("broken", "missing"))]
    row = next((ln for ln in rows if case.component in ln), None)
    assert row is not None, out
    for word in case.verify_problem:
        assert word.lower() in row.lower(), row
    assert out.strip().splitlines()[-1].startswith(f"{root}: {case.component}")
    _assert_nothing_ran(case, root)


def test_code_running_pickle_payload_is_live(conformance_dir: Path, tmp_path: Path) -> None:
    """The matrix's refusals mean something: an unrestricted load of the same files runs the code."""
    import torch

    for name, rel in (
        ("code-running-pickle-pt", "gslrm/ckpt_0000000000000000.pt"),
        ("code-running-pickle-unet-bin", "mvdiffusion/pipeckpts/unet/diffusion_pytorch_model.bin"),
    ):
        root = make_broken(BY_NAME[name], conformance_dir, tmp_path)
        assert not marker_of(root).exists()
        torch.load(root / rel, weights_only=False)
        assert marker_of(root).exists(), name


def test_cli_subprocess_code_running_pickle_no_traceback(
    conformance_dir: Path, tmp_path: Path, photo: Path
) -> None:
    """As a user runs it: a fresh `facelift` process, exit 2, one line, no traceback, nothing left,
    and the pickle's code never ran."""
    case = BY_NAME["code-running-pickle-pt"]
    root = make_broken(case, conformance_dir, tmp_path)
    out = tmp_path / "out"
    env = {"HOME": str(tmp_path / "home"), "XDG_DATA_HOME": str(tmp_path / "data"), "FACELIFT_WEIGHTS": ""}
    run = run_cli(
        "reconstruct", photo, "-o", out, "--engine", "facelift", "--weights", root, "--frames", "0", env=env
    )
    line = assert_one_line_error(run, 2, str(root / case.culprit))
    assert any(p.lower() in line.lower() for p in case.problem), line
    assert not out.exists()
    assert_nothing_partial(tmp_path)
    _assert_nothing_ran(case, root)


def test_cli_subprocess_verify_refuses_code_running_bin(conformance_dir: Path, tmp_path: Path) -> None:
    case = BY_NAME["code-running-pickle-unet-bin"]
    root = make_broken(case, conformance_dir, tmp_path)
    run = run_cli("weights", "verify", "--weights", root)
    assert run.rc == 2 and "Traceback" not in run.stderr, run.stderr
    rows = [ln for ln in run.stdout.splitlines() if "mvdiffusion/unet" in ln]
    assert rows and rows[0].strip().startswith("broken") and "refused" in rows[0], run.stdout
    _assert_nothing_ran(case, root)


# ---- the desktop app ---------------------------------------------------------------------


def _select_engine(window, name: str) -> None:  # type: ignore[no-untyped-def]
    combo = window.parameters_panel.engine
    combo.setCurrentIndex(combo.findData(name))
    assert window.parameters_panel.parameters().config.engine == name


@pytest.mark.parametrize("name", ["code-running-pickle-pt", "wrong-shape-unet"])
def test_gui_broken_weights_failure_dialog_then_instant_run(
    name: str, gui_window, qtbot, conformance_dir: Path, tmp_path: Path, monkeypatch
) -> None:
    """Weights that look complete but do not load: Reconstruct with FaceLift shows the one-line
    reason naming the file; the window stays usable and an instant run then finishes."""
    case = BY_NAME[name]
    root = make_broken(case, conformance_dir, tmp_path)
    monkeypatch.setenv("FACELIFT_WEIGHTS", str(root))
    window = gui_window()
    assert window.weights_dir == root and window.parameters_panel.facelift_available
    assert window.open_photo(PORTRAIT)
    _select_engine(window, "facelift")
    with qtbot.waitSignal(window.run_failed, timeout=60_000) as failed:
        assert window.reconstruct()
    failure = failed.args[0]
    assert_names_problem(failure.reason, case, root)
    dialog = window.last_failure_dialog
    assert dialog is not None and dialog.reason_label.text() == failure.reason
    assert not dialog.hint_label.isVisibleTo(dialog)  # not an out-of-memory failure
    assert window.result is None and not window.engine_worker.running
    _assert_nothing_ran(case, root)

    _select_engine(window, "instant")
    with qtbot.waitSignal(window.run_finished, timeout=60_000) as finished:
        assert window.reconstruct()
    assert finished.args[0].engine == "instant" and len(finished.args[0].gaussians) > 1000
    assert window.result is finished.args[0]


def test_gui_incomplete_weights_folder_disables_facelift_with_the_reason(
    gui_window, conformance_dir: Path, tmp_path: Path
) -> None:
    """A chosen folder that lacks a component: the FaceLift engine is offered as unavailable,
    saying which folder is incomplete; the weights dialog's Verify names the missing file."""
    case = BY_NAME["missing-model-index"]
    root = make_broken(case, conformance_dir, tmp_path)
    window = gui_window()
    window.settings.set_weights_dir(root)
    window.refresh_weights()
    assert not window.parameters_panel.facelift_available
    assert window.parameters_panel.parameters().config.engine == "instant"
    note = window.parameters_panel.engine_note.text()
    assert_message(note, str(root), "incomplete")

    from facelift_desktop.dialogs import WeightsDialog

    changed: list[Path | None] = []
    dialog = WeightsDialog(None, changed.append, window)
    dialog.set_folder(root)
    assert_message(dialog.status.text(), str(root), "model_index.json")
    assert changed == [None]  # a broken folder is not taken into use
    dialog.close()
