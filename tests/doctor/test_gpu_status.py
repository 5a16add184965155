"""engine.gpu_status: the one line that says whether FaceLift runs on an NVIDIA GPU, and why not.

No GPU here: every path (no driver, a driver too old for torch's CUDA 13 runtime, missing CUDA
libraries in the bundle, the CPU package on a computer with an NVIDIA GPU, a working GPU) is
simulated with the facts the probes would find.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import gpu_status as gs
from engine.doctor import environment as envmod

PROC = "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  {v}  Release Build  (dvs-builder@U16)\n"


def test_no_driver_runs_on_the_cpu_and_names_the_minimum_driver() -> None:
    status = gs.decide(gs.Facts(torch_cuda="13.0", driver=None, nvidia_pci=True))
    assert status.kind == "no-driver" and not status.on_gpu
    assert status.message == (
        "no CUDA device: running on the CPU (no NVIDIA driver found; CUDA 13.0 needs NVIDIA driver >= 580.65.06)"
    )


@pytest.mark.parametrize("driver", ["550.54.14", "580.65.05", "535.261.03"])
def test_a_driver_too_old_for_cuda_13_is_named(driver: str) -> None:
    status = gs.decide(gs.Facts(torch_cuda="13.0", driver=driver, nvidia_pci=True))
    assert status.kind == "old-driver" and status.min_driver == "580.65.06"
    assert f"NVIDIA driver {driver} is too old: CUDA 13.0 needs NVIDIA driver >= 580.65.06" in status.message
    assert status.message.startswith("no CUDA device: running on the CPU")


def test_a_new_enough_driver_without_a_device_says_cuda_did_not_start() -> None:
    status = gs.decide(
        gs.Facts("13.0", "580.95.05", cuda_error="RuntimeError: CUDA error: no CUDA-capable device")
    )
    assert status.kind == "cuda-failed"
    assert "driver 580.95.05, but CUDA did not start: RuntimeError: CUDA error" in status.message


def test_a_working_gpu_is_named_with_its_memory_and_driver() -> None:
    device = gs.Device("NVIDIA RTX 6000 Ada Generation", free_bytes=40 * gs.GIB, total_bytes=48 * gs.GIB)
    status = gs.decide(gs.Facts("13.0", "580.95.05", True, device))
    assert status.on_gpu
    assert status.message == (
        "running on the GPU: NVIDIA RTX 6000 Ada Generation, 48.0 GiB (40.0 GiB free), "
        "NVIDIA driver 580.95.05, CUDA 13.0"
    )


def test_missing_cuda_libraries_win_over_everything_else() -> None:
    status = gs.decide(gs.Facts("13.0", "580.95.05", True, missing_libraries=("libcudnn.so.9",)))
    assert status.kind == "libraries-missing"
    assert "lacks CUDA libraries: libcudnn.so.9; reinstall facelift-desktop-cuda" in status.message


def test_the_cpu_package_points_to_the_cuda_package_only_when_an_nvidia_gpu_is_there() -> None:
    with_gpu = gs.decide(gs.Facts(torch_cuda=None, driver="580.95.05", nvidia_pci=True))
    assert with_gpu.kind == "cpu-build"
    assert "has an NVIDIA GPU, driver 580.95.05: install facelift-desktop-cuda" in with_gpu.message
    assert ">= 580.65.06" in with_gpu.message
    no_driver_yet = gs.decide(gs.Facts(torch_cuda=None, driver=None, nvidia_pci=True))
    assert "install facelift-desktop-cuda" in no_driver_yet.message
    plain = gs.decide(gs.Facts(torch_cuda=None, driver=None, nvidia_pci=False))
    assert plain.message == "no CUDA device: running on the CPU (a CPU-only build of torch)"


def test_driver_version_from_proc_or_none(tmp_path: Path) -> None:
    proc = tmp_path / "version"
    proc.write_text(PROC.format(v="580.95.05"))
    assert gs.driver_version(proc, use_smi=False) == "580.95.05"
    assert gs.driver_version(tmp_path / "absent", use_smi=False) is None
    assert gs.parse_version("580.65.06") == (580, 65, 6) == gs.MIN_DRIVER[13]


def _pci(root: Path, name: str, vendor: str, pci_class: str) -> None:
    (root / name).mkdir(parents=True)
    (root / name / "vendor").write_text(vendor + "\n")
    (root / name / "class").write_text(pci_class + "\n")


def test_an_nvidia_display_controller_is_found_on_the_pci_bus(tmp_path: Path) -> None:
    _pci(tmp_path, "0000:00:02.0", "0x8086", "0x030000")  # Intel graphics
    _pci(tmp_path, "0000:01:00.1", "0x10de", "0x040300")  # the NVIDIA card's HDMI audio function
    assert not gs.nvidia_on_pci(tmp_path)
    _pci(tmp_path, "0000:01:00.0", "0x10de", "0x030000")
    assert gs.nvidia_on_pci(tmp_path)
    assert not gs.nvidia_on_pci(tmp_path / "no-sysfs")


def test_the_cuda_library_check_names_what_the_bundle_lacks(tmp_path: Path) -> None:
    wanted = gs.CUDA_LIBRARIES[13]
    torch_lib = tmp_path / "torch/lib"
    cudnn = tmp_path / "nvidia/cudnn/lib"
    for d in (torch_lib, cudnn):
        d.mkdir(parents=True)
    for name in wanted:
        (cudnn if "cudnn" in name else torch_lib).joinpath(name).write_bytes(b"\x7fELF")
    assert gs.missing_cuda_libraries("13.0", [torch_lib, cudnn]) == ()
    (cudnn / "libcudnn_engines_precompiled.so.9").unlink()
    (torch_lib / "libcublasLt.so.13").unlink()
    assert gs.missing_cuda_libraries("13.0", [torch_lib, cudnn]) == (
        "libcublasLt.so.13",
        "libcudnn_engines_precompiled.so.9",
    )
    assert gs.missing_cuda_libraries(None, [torch_lib]) == ()  # the CPU build needs none


def test_doctor_prints_the_simulated_verdict(monkeypatch: pytest.MonkeyPatch) -> None:
    facts = gs.Facts(torch_cuda="13.0", driver="550.54.14", nvidia_pci=True)
    monkeypatch.setattr(gs, "gather", lambda: facts)
    env = envmod.collect(probe_gl=False)
    gpu_line = dict(env.lines)["GPU"]
    assert gpu_line.startswith("no CUDA device: running on the CPU (NVIDIA driver 550.54.14 is too old")
    assert env.facts["gpu_status"] == {"kind": "old-driver", "message": gpu_line, "min_driver": "580.65.06"}


def test_this_machine_detects_its_own_state() -> None:
    """No NVIDIA driver here: the real probes say so whichever torch build runs the tests."""
    status = gs.detect()
    assert not status.on_gpu and status.facts.driver is None
    assert status.message.startswith("no CUDA device: running on the CPU")
