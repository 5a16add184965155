"""facelift_desktop.selftest from a source checkout (the frozen run is in test_install_deb.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from facelift_desktop import selftest

pytestmark = pytest.mark.slow  # imports every module, runs the instant engine and encodes a video


def test_self_test_passes_and_leaves_its_files_where_asked(tmp_path: Path) -> None:
    lines: list[str] = []
    code = selftest.run_self_test(emit=lines.append, keep_dir=tmp_path)
    report = "\n".join(lines)
    assert code == 0, report
    assert "self-test passed" in lines[-1]
    assert "(source," in lines[0]
    for step, _ in selftest.STEPS:
        assert any(line.startswith(f"  ok   {step}:") for line in lines), report
    assert (tmp_path / "selftest.ply").stat().st_size > 10_000
    assert (tmp_path / "selftest.mp4").read_bytes()[4:8] == b"ftyp"


def test_missing_resources_fail_with_the_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(selftest, "resources_dir", lambda: tmp_path / "resources")
    lines: list[str] = []
    code = selftest.run_self_test(emit=lines.append)
    assert code == 1
    fail = next(line for line in lines if "FAIL" in line)
    assert fail.startswith("  FAIL resources: bundled resources missing:")
    assert str(tmp_path / "resources" / "samples" / "astronaut.png") in fail
    assert lines[-1].startswith("self-test FAILED at 'resources'")
