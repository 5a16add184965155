"""The CLI and the window offer the same settings: `facelift reconstruct --help` and `facelift
render --help` against a fresh parameters panel and the export settings (both read
engine.settings; this catches either side writing its own number or name again)."""

from __future__ import annotations

import re

import pytest

from engine.cli import main


def _help(capsys: pytest.CaptureFixture[str], command: str) -> str:
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    return " ".join(capsys.readouterr().out.split())  # argparse wraps lines


def _default(text: str, flag: str) -> str:
    """The "(default X)" of ``flag``'s help in ``--help`` text."""
    match = re.search(rf"{re.escape(flag)}\b[^(]*?\(default ([^)\s;,]+)", text)
    assert match, f"{flag}: no default shown in --help"
    return match.group(1)


def _choices(text: str, flag: str) -> list[str]:
    match = re.search(rf"{re.escape(flag)} \{{([^}}]+)\}}", text)
    assert match, f"{flag}: no choices shown in --help"
    return match.group(1).split(",")


def _combo_keys(combo) -> list[str]:  # type: ignore[no-untyped-def]
    return [combo.itemData(i) for i in range(combo.count())]


def test_reconstruct_help_and_the_parameters_panel_show_the_same_defaults(qtbot, capsys) -> None:  # type: ignore[no-untyped-def]
    from facelift_desktop.panels.parameters_panel import ParametersPanel

    text = _help(capsys, "reconstruct")
    panel = ParametersPanel()
    qtbot.addWidget(panel)
    assert int(_default(text, "--seed")) == panel.seed.value()
    assert float(_default(text, "--guidance")) == panel.guidance.value()
    assert int(_default(text, "--steps")) == panel.steps.value()
    assert _default(text, "--memory-preset") == panel.memory.currentData()
    assert _choices(text, "--memory-preset") == _combo_keys(panel.memory)
    assert _choices(text, "--device") == _combo_keys(panel.device)
    assert panel.device.currentData() == "auto" and "--device {auto," in text
    assert _choices(text, "--engine") == _combo_keys(panel.engine)
    assert _choices(text, "--sampler") == _combo_keys(panel.sampler)
    assert panel.sampler.currentData() == "reference" and "--sampler {reference,fast}" in text
    assert panel.auto_crop.isChecked() and "--no-auto-crop" in text  # auto-crop on unless turned off
    # and the reference's values, so a change to engine.settings is a decision, not an accident
    assert (panel.seed.value(), panel.guidance.value(), panel.steps.value()) == (4, 3.0, 50)


def test_render_help_and_the_turntable_export_show_the_same_defaults(capsys) -> None:  # type: ignore[no-untyped-def]
    from facelift_desktop.settings import ExportSettings

    text = _help(capsys, "render")
    export = ExportSettings()
    assert int(_default(text, "--frames")) == export.video_frames == 150
    assert float(_default(text, "--fps")) == export.video_fps == 30
    assert int(_default(text, "--size")) == export.video_size == 512
    assert float(_default(text, "--elevation")) == export.video_elevation == 0.0
    reconstruct = _help(capsys, "reconstruct")
    for flag in ("--frames", "--fps", "--size"):
        assert _default(reconstruct, flag) == _default(text, flag)
