"""``facelift doctor [--json]``: what this computer offers and whether it computes FaceLift's function.

Prints the environment, then one PASS/FAIL/SKIP line per conformance check as it finishes, the
memory preset to use, and what each failure means. Exit code 0 when every check that can run
here passed, 1 otherwise. ``--json`` prints the same as one JSON document (for bug reports).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the report as JSON (for bug reports)")
    parser.add_argument(
        "--weights",
        type=Path,
        help="the weights folder to verify (default: where the app looks)",
    )
    parser.add_argument(
        "--no-gl",
        action="store_true",
        help="do not start the OpenGL probe (it opens a context on the display)",
    )
    # Tests point the doctor at perturbed copies of the shipped fixtures.
    parser.add_argument("--fixtures", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--render-expected", type=Path, default=None, help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    from engine.doctor.environment import collect
    from engine.doctor.report import (
        CHECKS_HEADING,
        TITLE,
        as_json,
        environment_lines,
        result_line,
        summary_lines,
    )
    from engine.doctor.run import run_doctor

    def say(line: str) -> None:
        if not args.json:
            print(line, flush=True)

    say(TITLE + "\n")
    env = collect(args.weights, probe_gl=not args.no_gl)
    for line in environment_lines(env):
        say(line)
    say("\n" + CHECKS_HEADING)
    report = run_doctor(
        fixtures=args.fixtures,
        render_expected=args.render_expected,
        environment=env,
        on_result=lambda r: say(result_line(r)),
    )
    if args.json:
        sys.stdout.write(as_json(report) + "\n")
    else:
        for line in summary_lines(report):
            say(line)
    return 0 if report.ok else 1
