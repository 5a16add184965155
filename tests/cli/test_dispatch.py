"""engine.cli: the dispatcher's behaviour a user sees."""

from __future__ import annotations

import subprocess
import sys
import types

import pytest

from engine import __version__, cli
from engine.api import InputError


def test_help_lists_every_sub_command(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for name in cli.COMMANDS:
        assert name in out


def test_no_command_prints_help_and_fails(capsys):
    assert cli.main([]) == 2
    assert "usage: facelift" in capsys.readouterr().out


@pytest.mark.parametrize("name", sorted(cli.COMMANDS))
def test_every_listed_command_has_its_module_and_help(name, capsys):
    """Each command the help lists really exists: its module loads and ``--help`` describes it."""
    with pytest.raises(SystemExit) as info:
        cli.main([name, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: facelift {name}") and cli.COMMANDS[name][:30] in " ".join(out.split())


def _fake_command(behaviour):
    mod = types.ModuleType("fake")
    mod.add_arguments = lambda p: p.add_argument("path")  # type: ignore[attr-defined]
    mod.run = behaviour  # type: ignore[attr-defined]
    return mod


def _use(monkeypatch, behaviour):
    monkeypatch.setattr(cli, "_load_command", lambda name: _fake_command(behaviour))


def test_engine_errors_print_one_line_without_traceback(monkeypatch, capsys):
    def run(args):
        raise InputError(f"{args.path}: not a PLY file")

    _use(monkeypatch, run)
    assert cli.main(["render", "bad.ply"]) == 2
    err = capsys.readouterr().err
    assert err == "facelift: error: bad.ply: not a PLY file\n"


@pytest.mark.parametrize("argv", [["--debug", "render", "bad.ply"], ["render", "--debug", "bad.ply"]])
def test_debug_shows_the_traceback_wherever_it_is_given(monkeypatch, capsys, argv):
    def run(args):
        raise InputError("boom")

    _use(monkeypatch, run)
    assert cli.main(argv) == 2
    assert "Traceback" in capsys.readouterr().err


def test_cancel_and_interrupt_exit_130(monkeypatch, capsys):
    def interrupted(args):
        raise KeyboardInterrupt

    _use(monkeypatch, interrupted)
    assert cli.main(["render", "a"]) == 130
    assert "interrupted" in capsys.readouterr().err


def test_reference_style_flags_mean_reconstruct(monkeypatch):
    seen = {}
    mod = types.ModuleType("fake")
    mod.add_arguments = lambda p: (p.add_argument("-i"), p.add_argument("-o"))  # type: ignore[attr-defined]
    mod.run = lambda args: seen.update(vars(args)) or 0  # type: ignore[attr-defined]
    monkeypatch.setattr(cli, "_load_command", lambda name: mod)
    assert cli.main(["-i", "photos", "-o", "out"]) == 0
    assert seen["command"] == "reconstruct" and seen["i"] == "photos"


def test_version_does_not_import_sub_commands_or_heavy_libraries():
    code = (
        "import sys\n"
        "from engine.cli import main\n"
        "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
        "bad = [m for m in sys.modules if m.startswith('engine.commands.') or m.split('.')[0] in "
        "('torch', 'diffusers', 'mediapipe', 'PySide6', 'vispy')]\n"
        "assert not bad, bad\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("facelift ")


def test_console_script_runs():
    out = subprocess.run([sys.executable, "-m", "engine.cli", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("facelift ")


def test_version_flag_prints_version(capsys):
    try:
        cli.main(["--version"])
    except SystemExit as exc:
        assert exc.code == 0
    assert __version__ in capsys.readouterr().out


def test_engine_import_pulls_in_no_gui_toolkit():
    code = (
        "import sys, engine.cli, engine.gaussians, engine.cameras, engine.api, engine.engines, engine.outputs\n"
        "bad = [m for m in ('PySide6', 'vispy', 'pyqtgraph') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
