"""After running out of memory, the CLI and the window name the same preset, each in its own words:
the engine's OutOfMemory carries the suggestion once; the CLI adds its flag, the window its
Memory choice (engine.commands.error_text, facelift_desktop.dialogs.oom_hint)."""

from __future__ import annotations

import pytest

from engine.commands import error_text
from engine.oom import out_of_memory
from engine.settings import DEVICE_NAMES, MEMORY_PRESETS
from facelift_desktop.dialogs import OOM_HINT, oom_hint
from facelift_desktop.worker import Failure


@pytest.mark.parametrize("device", DEVICE_NAMES)
@pytest.mark.parametrize("preset", list(MEMORY_PRESETS))
def test_cli_and_window_suggest_the_same_preset(preset: str, device: str) -> None:
    err = out_of_memory("running GS-LRM", device=device, memory_preset=preset, freed=True)
    cli = error_text(err)
    failure = Failure.from_exception(err)
    gui = oom_hint(failure.suggested_preset)
    assert failure.out_of_memory and failure.reason == str(err)  # the window shows the engine's line
    suggested = err.suggested_preset
    if suggested is None:
        assert "--memory-preset" not in cli and gui == OOM_HINT
        return
    assert failure.suggested_preset == suggested
    assert cli.endswith(f"(--memory-preset {suggested})")
    label = MEMORY_PRESETS[suggested].label  # type: ignore[index]
    assert f"“{label}”" in gui and "Parameters" in gui and "--" not in gui
    # neither names another preset
    for other, info in MEMORY_PRESETS.items():
        if other != suggested:
            assert f"--memory-preset {other})" not in cli and f"“{info.label}”" not in gui
