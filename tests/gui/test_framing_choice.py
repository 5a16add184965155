"""The Parameters panel's framing choice (issue 19): the CLI's --framing choices plus "the model
folder's own", which is the default and leaves RunOptions.framing None."""

from __future__ import annotations

import re

import pytest

from engine.cli import main
from engine.settings import FRAMING_NAMES, RunOptions


def test_the_panel_offers_the_clis_framings_and_defaults_to_the_model_folders(qtbot, capsys) -> None:  # type: ignore[no-untyped-def]
    from facelift_desktop.panels.parameters_panel import MODEL_FRAMING, ParametersPanel
    from facelift_desktop.settings import Parameters

    with pytest.raises(SystemExit):
        main(["reconstruct", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    match = re.search(r"--framing \{([^}]+)\}", text)
    assert match is not None
    panel = ParametersPanel()
    qtbot.addWidget(panel)
    keys = [panel.framing.itemData(i) for i in range(panel.framing.count())]
    assert keys == [MODEL_FRAMING, *match.group(1).split(",")] == [MODEL_FRAMING, *FRAMING_NAMES]
    assert panel.parameters().options.framing is None  # the model folder decides

    with qtbot.waitSignal(panel.changed):
        panel.framing.setCurrentIndex(panel.framing.findData("object"))
    assert panel.parameters().options.framing == "object"
    panel.set_parameters(Parameters(options=RunOptions(framing="none")))
    assert panel.framing.currentData() == "none"
