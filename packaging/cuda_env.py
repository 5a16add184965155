"""The CUDA build environment: ``build/venv-cuda`` with torch's CUDA 13 build and the app's
dependencies, made by ``packaging/build_deb.py --cuda`` itself (the CPU ``.venv`` is untouched).

Everything comes from the package registry as prebuilt wheels (``--only-binary :all:``): torch's
CUDA build pulls the NVIDIA runtime wheels (cuBLAS, cuDNN, cuFFT, cuRAND, cuSOLVER, cuSPARSE,
NCCL, nvJitLink, NVRTC, ...) so the user's machine needs only the NVIDIA driver. gsplat is left
out: the registry's gsplat wheels are ``py3-none-any`` with CUDA sources that compile with nvcc on
first use, which a user's machine cannot do; the app's own torch rasteriser runs on CUDA instead.

Only the standard library is used, so it runs with any Python 3.11.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / "build" / "venv-cuda"
TORCH_CUDA = "torch==2.14.1"
"""torch's CUDA 13.0 build (the registry's 2.14.1 wheel depends on cuda-toolkit 13.0.3)."""
PYINSTALLER = "pyinstaller==6.22.3"
# Not in the CUDA bundle: gsplat (JIT-only wheel, see above) and torchvision (never used).
LEFT_OUT = {"gsplat", "torchvision"}


class EnvError(Exception):
    """The CUDA build environment cannot be made (one-line reason)."""


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower()


def requirements(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """The app's run-time dependencies with torch swapped for its CUDA build, plus PyInstaller."""
    deps = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"]
    out = [TORCH_CUDA if _name(d) == "torch" else d for d in deps if _name(d) not in LEFT_OUT]
    if TORCH_CUDA not in out:
        raise EnvError(f"{pyproject}: torch is not among the dependencies")
    return [*out, PYINSTALLER]


def venv_python(venv: Path = VENV) -> Path:
    return venv / "bin" / "python"


def _stamp(venv: Path, reqs: list[str]) -> Path:
    import hashlib

    digest = hashlib.sha256("\n".join(reqs).encode()).hexdigest()[:16]
    return venv / f"installed-{digest}"


def base_python() -> str:
    """A Python 3.11 to make the environment with: this one, else python3.11 on PATH."""
    if sys.version_info[:2] == (3, 11):
        return sys.executable
    found = shutil.which("python3.11")
    if found is None:
        raise EnvError("the CUDA build environment needs Python 3.11 (python3.11 was not found)")
    return found


def ensure_cuda_env(venv: Path = VENV, python: str | None = None) -> Path:
    """Create ``venv`` and install :func:`requirements` into it (niced); returns its python.

    A second call with the same requirements only checks a stamp file.
    """
    reqs = requirements()
    stamp = _stamp(venv, reqs)
    py = venv_python(venv)
    if stamp.is_file() and py.is_file():
        return py
    if not py.is_file():
        print(f"== creating the CUDA build environment {venv}", flush=True)
        subprocess.run([python or base_python(), "-m", "venv", str(venv)], check=True)
    print(f"== installing {TORCH_CUDA} (CUDA 13) and the app's dependencies into {venv}", flush=True)
    # torch first, so nothing that depends on it picks another build.
    for batch in ([TORCH_CUDA], reqs):
        subprocess.run(
            [
                "nice",
                "-n",
                "10",
                str(py),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--only-binary",
                ":all:",
                *batch,
            ],
            check=True,
        )
    check = subprocess.run(
        [str(py), "-c", "import torch; print(torch.version.cuda or '')"], capture_output=True, text=True
    )
    if check.returncode != 0 or not check.stdout.strip():
        raise EnvError(f"{venv}: torch there is not a CUDA build ({check.stderr.strip()[-200:]})")
    for old in venv.glob("installed-*"):
        old.unlink()
    stamp.touch()
    return py


if __name__ == "__main__":
    print(ensure_cuda_env())
