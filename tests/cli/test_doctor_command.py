"""`facelift doctor`: the report on this computer (no CUDA here) and the JSON report's exit code."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engine.cli import main as cli_main
from engine.doctor import run as doctor_run


def test_doctor_command_passes_here_and_prints_no_cuda_device(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli_main(["doctor", "--no-gl"])
    out = capsys.readouterr().out
    assert code == 0, out
    lines = out.splitlines()
    passes = [line for line in lines if line.strip().startswith("PASS")]
    assert [line.split()[1] for line in passes] == ["GS-LRM", "UNet", "sampler", "renderer"]
    assert all("max|Δ|" in line for line in passes)
    skips = [line for line in lines if line.strip().startswith("SKIP")]
    assert len(skips) == 5 and all(line.endswith("no CUDA device") for line in skips)
    for label in ("OS", "Python", "torch", "NVIDIA driver", "GPU", "gsplat", "ffmpeg", "OpenGL", "weights"):
        assert any(line.strip().startswith(label) for line in lines), label
    assert "Memory preset for this computer: cpu" in out
    assert "All 4 checks that can run here passed" in out


def test_doctor_command_json_and_exit_code_1_on_a_failure(
    fixtures_copy: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = fixtures_copy / "gslrm" / "expected.npz"
    with np.load(path) as f:
        data = {k: f[k] for k in f.files}
    data["opacity_pre"] = data["opacity_pre"] + np.float32(0.5)
    np.savez(path, **data)
    real_plan = doctor_run.plan
    monkeypatch.setattr(doctor_run, "plan", lambda *a, **k: [real_plan(*a, **k)[0], *real_plan(*a, **k)[4:]])
    code = cli_main(["doctor", "--no-gl", "--json", "--fixtures", str(fixtures_copy)])
    report = json.loads(capsys.readouterr().out)
    assert code == 1 and report["ok"] is False
    first = report["checks"][0]
    assert (first["check"], first["status"]) == ("gslrm", "FAIL")
    assert first["error"] == pytest.approx(0.5, rel=1e-3) and "3D heads" in first["advice"]
    assert [c["status"] for c in report["checks"][1:]] == ["SKIP"] * 5
    assert report["memory_preset"]["name"] == "cpu"
    assert report["environment"]["torch"]["version"]
