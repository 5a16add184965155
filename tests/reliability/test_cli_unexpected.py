"""A bug inside a command still ends in one line on the terminal, not a traceback."""

from __future__ import annotations

import argparse

import pytest

from engine import cli


def _broken_command(_args: argparse.Namespace) -> int:
    raise RuntimeError("simulated bug\nwith a second line")


@pytest.mark.parametrize("debug", [False, True])
def test_unexpected_exception_is_one_line_and_exit_1(monkeypatch, capsys, debug: bool) -> None:
    real_build = cli.build_parser

    def build(load=None):  # type: ignore[no-untyped-def]
        parser = real_build(load)
        parser.set_defaults(_run=_broken_command)
        for action in parser._subparsers._group_actions:  # type: ignore[union-attr]
            for sub in action.choices.values():
                sub.set_defaults(_run=_broken_command)
        return parser

    monkeypatch.setattr(cli, "build_parser", build)
    argv = ["render", "x.ply", "-o", "y.png"] + (["--debug"] if debug else [])
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "unexpected failure" in line]
    assert len(lines) == 1
    assert "RuntimeError: simulated bug with a second line" in lines[0]
    assert ("Traceback" in err) is debug
