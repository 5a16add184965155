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


def test_a_cuda_bundle_missing_a_runtime_library_fails_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CUDA package's start check: a bundle that lost cuDNN's engines would import torch fine
    here and fail only on a user's GPU; the self-test stops at 'GPU' with the file's name."""
    from engine import gpu_status

    lib = tmp_path / "torch" / "lib"
    lib.mkdir(parents=True)
    for name in gpu_status.CUDA_LIBRARIES[13]:
        if name != "libcudnn_engines_precompiled.so.9":
            (lib / name).write_bytes(b"\x7fELF")
    monkeypatch.setattr(gpu_status, "library_dirs", lambda: [lib])
    import torch

    monkeypatch.setattr(torch.version, "cuda", "13.0")  # as in the CUDA package
    monkeypatch.setattr(selftest, "STEPS", selftest.STEPS[1:2])  # the GPU step alone (fast)
    lines: list[str] = []
    assert selftest.run_self_test(emit=lines.append) == 1
    assert lines[1] == (
        "  FAIL GPU: no CUDA device: running on the CPU (the installation lacks CUDA libraries: "
        "libcudnn_engines_precompiled.so.9; reinstall facelift-desktop-cuda)"
    )
    assert lines[-1].startswith("self-test FAILED at 'GPU'")
