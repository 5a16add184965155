"""The doctor's report as text (the terminal and the window show the same lines) and as JSON."""

from __future__ import annotations

import json
from typing import Any

from engine.doctor.environment import Environment
from engine.doctor.run import CHECK_LABELS, CheckResult, DoctorReport

TITLE = "FaceLift Desktop doctor"
CHECKS_HEADING = "Conformance on this computer (tiny FaceLift networks vs. the reference code's outputs)"


def environment_lines(env: Environment) -> list[str]:
    width = max((len(label) for label, _ in env.lines), default=0)
    return ["This computer"] + [f"  {label:<{width}}  {text}" for label, text in env.lines]


def result_line(result: CheckResult) -> str:
    return "  " + result.line()


def summary_lines(report: DoctorReport) -> list[str]:
    """The memory preset, what each failure means, and the verdict."""
    lines = ["", f"Memory preset for this computer: {report.preset} ({report.preset_reason})"]
    ran = [r for r in report.results if r.status != "SKIP"]
    skipped = len(report.results) - len(ran)
    fails = report.failures
    if fails:
        lines += ["", "What the failures mean"]
        for r in fails:
            lines.append(f"  {CHECK_LABELS[r.spec.check]} {r.spec.target}: {r.advice}")
    skip_text = f" ({skipped} skipped: they cannot run on this computer)" if skipped else ""
    if fails:
        lines.append(
            f"\n{len(ran) - len(fails)} of {len(ran)} checks passed, {len(fails)} FAILED{skip_text}."
        )
    else:
        lines.append(f"\nAll {len(ran)} checks that can run here passed{skip_text}.")
    return lines


def as_text(report: DoctorReport) -> str:
    """The whole report (what ``facelift doctor`` prints and the window's Copy button copies)."""
    lines = [TITLE, "", *environment_lines(report.environment), "", CHECKS_HEADING]
    lines += [result_line(r) for r in report.results]
    lines += summary_lines(report)
    return "\n".join(lines) + "\n"


def as_dict(report: DoctorReport) -> dict[str, Any]:
    return {
        "environment": report.environment.facts,
        "checks": [r.as_dict() for r in report.results],
        "memory_preset": {"name": report.preset, "reason": report.preset_reason},
        "ok": report.ok,
    }


def as_json(report: DoctorReport) -> str:
    return json.dumps(as_dict(report), indent=2, default=str)
