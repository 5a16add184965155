"""The CUDA package: build it with ``packaging/build_deb.py --cuda``, install it with dpkg on this
machine (no GPU, no NVIDIA driver), use it, simulate the GPU paths, remove it: nothing remains.

Runs only with PACKAGING=1 (as root, with an X display or xvfb-run). The build makes
build/venv-cuda (torch's CUDA 13 build, ~7 GB) and freezes dist/cuda/facelift-desktop: the
first run takes the better part of an hour on two cores; PACKAGING_REUSE_BUNDLE=1 packages the
existing bundle. The GPU paths are simulated from outside the installed app: a fake
``nvidia-smi`` on PATH reports an old driver, and a CUDA library moved out of /opt (and back)
is a damaged installation. The tests run in file order and share one installation.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import debs
import numpy as np
import pytest
from debs import BIN_APP, BIN_CLI, OPT, SAMPLE
from PIL import Image

APP = debs.APP
PACKAGE = debs.CUDA.package
NO_DRIVER = (
    "no CUDA device: running on the CPU (no NVIDIA driver found; CUDA 13.0 needs NVIDIA driver >= 580.65.06)"
)
OLD_DRIVER = (
    "no CUDA device: running on the CPU (NVIDIA driver 550.54.14 is too old: "
    "CUDA 13.0 needs NVIDIA driver >= 580.65.06)"
)

pytestmark = [
    pytest.mark.packaging,
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("PACKAGING") != "1",
        reason="builds and installs the CUDA .deb: run PACKAGING=1 ./test.sh",
    ),
]


@pytest.fixture(scope="module")
def variant() -> debs.Variant:
    """The package the shared deb/installed fixtures (conftest.py) build and install."""
    return debs.CUDA


def test_cuda_deb_carries_the_cuda_runtime_and_no_weights(deb: Path) -> None:
    from engine.gpu_status import CUDA_LIBRARIES

    fields = debs.run(["dpkg-deb", "-f", str(deb)], timeout=60).stdout
    assert f"Package: {PACKAGE}\n" in fields
    assert "Conflicts: facelift-desktop\n" in fields and "Provides: facelift-desktop\n" in fields
    listing = debs.run(["dpkg-deb", "-c", str(deb)], timeout=900).stdout
    names = {Path(line.split()[5]).name for line in listing.splitlines()}
    assert set(CUDA_LIBRARIES[13]) <= names, set(CUDA_LIBRARIES[13]) - names
    assert "libtorch_cuda.so" in names
    paths = [line.split()[5] for line in listing.splitlines()]
    # gsplat would compile with nvcc on first use; triton is torch.compile's, unused (torch's own
    # torch/_native/triton/ helpers are part of torch and stay)
    internal = f"./opt/{APP}/_internal/"
    assert not [p for p in paths if p.startswith((f"{internal}gsplat/", f"{internal}triton/"))]
    big_weights = [
        (line.split()[5], int(line.split()[2]))
        for line in listing.splitlines()
        if line.split()[5].endswith((".safetensors", ".ckpt", ".pth", ".pt"))
        and int(line.split()[2]) > 5_000_000
    ]
    assert big_weights == [], big_weights  # the FaceLift weights are never bundled


def test_self_test_passes_and_says_why_it_runs_on_the_cpu(installed: list[Path], user_home: Path) -> None:
    run = debs.run(debs.gui([str(BIN_APP), "--self-test"]), timeout=900, env=debs.user_env(user_home))
    assert run.returncode == 0, f"self-test failed:\n{run.stdout[-4000:]}\n{run.stderr[-4000:]}"
    assert "(bundle," in run.stdout and "self-test passed" in run.stdout
    assert f"  ok   GPU: {NO_DRIVER}" in run.stdout, run.stdout


def test_doctor_reports_the_cuda_build_and_the_cpu(installed: list[Path], user_home: Path) -> None:
    run = debs.run(debs.gui([str(BIN_CLI), "doctor"]), timeout=1200, env=debs.user_env(user_home))
    assert run.returncode == 0, f"facelift doctor failed:\n{run.stdout[-4000:]}\n{run.stderr[-3000:]}"
    torch_line = next(line for line in run.stdout.splitlines() if line.strip().startswith("torch "))
    assert "built for CUDA 13.0" in torch_line, torch_line
    lines = [" ".join(line.split()) for line in run.stdout.splitlines()]
    assert f"GPU {NO_DRIVER}" in lines, run.stdout
    assert "NVIDIA driver none found" in lines
    assert "gsplat not installed: the app's own torch rasteriser draws on the GPU too" in lines


def test_a_driver_too_old_is_named_with_the_minimum(
    installed: list[Path], user_home: Path, tmp_path: Path
) -> None:
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    smi = fake_bin / "nvidia-smi"
    smi.write_text("#!/bin/sh\necho 550.54.14\n")  # what an R550 driver answers to --query-gpu=driver_version
    smi.chmod(0o755)
    run = debs.run(
        debs.gui([str(BIN_APP), "--self-test"]), timeout=900, env=debs.user_env(user_home, fake_bin)
    )
    assert run.returncode == 0, run.stdout[-3000:]
    assert f"  ok   GPU: {OLD_DRIVER}" in run.stdout, run.stdout


def test_a_missing_cuda_library_fails_the_start_check(installed: list[Path], user_home: Path) -> None:
    lib = next(p for p in installed if p.name == "libcudnn_engines_precompiled.so.9")
    aside = Path("/tmp") / f"{lib.name}.moved-by-test"
    shutil.move(lib, aside)
    try:
        run = debs.run(debs.gui([str(BIN_APP), "--self-test"]), timeout=900, env=debs.user_env(user_home))
    finally:
        shutil.move(aside, lib)
    assert run.returncode == 1, run.stdout[-3000:]
    assert (
        "  FAIL GPU: no CUDA device: running on the CPU (the installation lacks CUDA libraries: "
        "libcudnn_engines_precompiled.so.9; reinstall facelift-desktop-cuda)" in run.stdout
    ), run.stdout


def test_the_window_opens_with_the_cpu_message(
    installed: list[Path], user_home: Path, tmp_path: Path
) -> None:
    shot = Path(os.environ.get("FACELIFT_CUDA_SCREENSHOT", tmp_path / "window.png"))
    run = debs.run(
        debs.gui([str(BIN_APP), "--screenshot", str(shot), "--quit"]),
        timeout=600,
        env=debs.user_env(user_home),
    )
    assert run.returncode == 0, f"app failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    # --screenshot waits for the start-up GPU check (tests/gui/test_gpu_check.py checks its line);
    # the image is looked at by hand for the release notes (FACELIFT_CUDA_SCREENSHOT keeps it)
    img = np.asarray(Image.open(shot).convert("RGB"))
    assert img.shape[0] >= 300 and img.shape[1] >= 400, img.shape


def test_the_cli_reconstructs_with_the_instant_engine(
    installed: list[Path], user_home: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    run = debs.run(
        [
            str(BIN_CLI),
            "reconstruct",
            str(SAMPLE),
            "-o",
            str(out),
            "--engine",
            "instant",
            "--frames",
            "12",
            "--size",
            "256",
        ],
        timeout=900,
        env=debs.user_env(user_home),
    )
    assert run.returncode == 0, f"facelift reconstruct failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    ply = out / SAMPLE.stem / "gaussians.ply"
    with ply.open("rb") as fh:
        header = fh.read(4096).split(b"end_header")[0].decode("ascii", "replace")
    count = int(next(line.split()[-1] for line in header.splitlines() if line.startswith("element vertex")))
    assert count > 1000, header


def test_nothing_was_written_under_opt_and_remove_leaves_nothing(installed: list[Path]) -> None:
    debs.assert_nothing_added_under_opt(installed)
    debs.remove(debs.CUDA, installed)
    gone = (
        OPT,
        BIN_APP,
        BIN_CLI,
        Path(f"/usr/share/doc/{PACKAGE}"),
        Path(f"/usr/share/applications/{APP}.desktop"),
    )
    assert [p for p in gone if os.path.lexists(p)] == []
    debs.purge(debs.CUDA)
