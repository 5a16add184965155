"""Is FaceLift running on an NVIDIA GPU here, and if not, why: one :class:`GpuStatus`.

The facts come from the system (the NVIDIA kernel driver's version in /proc or from
``nvidia-smi``, NVIDIA display controllers on the PCI bus in /sys), from torch (its CUDA build,
whether a device answers, its name and memory) and, in the CUDA package, from the bundle (are
the CUDA runtime libraries it needs there). :func:`decide` turns them into one status and one
line -- the window's status bar shows it once, ``facelift doctor`` prints it, and the CPU package
uses it to say that a CUDA package exists when an NVIDIA GPU is present.

Gathering (:func:`gather`) and deciding (:func:`decide`) are separate so that every path --
no driver, a driver too old for torch's CUDA runtime, missing libraries, a working GPU -- can be
simulated without a GPU.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

GIB = 1024**3
PROC_DRIVER = Path("/proc/driver/nvidia/version")
SYS_PCI = Path("/sys/bus/pci/devices")
NVIDIA_PCI_VENDOR = "0x10de"
CUDA_PACKAGE = "facelift-desktop-cuda"

# The oldest Linux driver each CUDA major version's runtime runs on (NVIDIA's CUDA Toolkit
# release notes, "CUDA Toolkit and Corresponding Driver Versions": CUDA 13.0 GA >= 580.65.06,
# CUDA 12.0 GA >= 525.60.13; later 13.x/12.x runtimes run on these by minor-version compatibility).
MIN_DRIVER: dict[int, tuple[int, ...]] = {13: (580, 65, 6), 12: (525, 60, 13)}

# The shared libraries of the NVIDIA runtime wheels that torch's CUDA 13 build loads -- at import
# (libtorch_cuda.so's DT_NEEDED) or later by dlopen (cuDNN's engines, NVRTC's built-ins, cuBLASLt).
# A bundle that lost one imports torch fine on a CPU machine and then fails on the first GPU call.
CUDA_LIBRARIES: dict[int, tuple[str, ...]] = {
    13: (
        "libcudart.so.13",
        "libcublas.so.13",
        "libcublasLt.so.13",
        "libcudnn.so.9",
        "libcudnn_engines_precompiled.so.9",
        "libcudnn_graph.so.9",
        "libcufft.so.12",
        "libcurand.so.10",
        "libcusolver.so.12",
        "libcusparse.so.12",
        "libcusparseLt.so.0",
        "libnccl.so.2",
        "libnvJitLink.so.13",
        "libnvrtc.so.13",
        "libnvrtc-builtins.so.13.0",
        "libcupti.so.13",
    ),
}

Kind = Literal["cuda", "no-driver", "old-driver", "libraries-missing", "cuda-failed", "cpu-build"]


@dataclass(frozen=True)
class Device:
    """The CUDA device torch uses: name, free/total memory in bytes."""

    name: str
    free_bytes: int
    total_bytes: int


@dataclass(frozen=True)
class Facts:
    """What was found. torch_cuda: torch.version.cuda ("13.0") or None for a CPU build;
    driver: the NVIDIA kernel driver's version ("580.95.05") or None; nvidia_pci: an NVIDIA
    display controller is on the PCI bus (even without a driver); device: the first CUDA device
    when torch.cuda answers; cuda_error: why torch.cuda did not answer; missing_libraries: CUDA
    runtime libraries the bundle lacks."""

    torch_cuda: str | None
    driver: str | None
    nvidia_pci: bool = False
    device: Device | None = None
    cuda_error: str = ""
    missing_libraries: tuple[str, ...] = ()


@dataclass(frozen=True)
class GpuStatus:
    """The verdict. kind: see :data:`Kind`; message: the one line users see; min_driver: the
    driver this torch's CUDA runtime needs ("580.65.06"), or "" for a CPU build."""

    kind: Kind
    message: str
    facts: Facts
    min_driver: str = ""

    @property
    def on_gpu(self) -> bool:
        return self.kind == "cuda"


def parse_version(text: str) -> tuple[int, ...]:
    """ "580.65.06" -> (580, 65, 6); the leading numeric part only."""
    found = re.match(r"\d+(?:\.\d+)*", text.strip())
    return tuple(int(p) for p in found.group(0).split(".")) if found else ()


def _fmt(version: tuple[int, ...]) -> str:
    return ".".join(f"{v:02d}" if i == 2 else str(v) for i, v in enumerate(version))


def min_driver_for(torch_cuda: str | None) -> tuple[int, ...] | None:
    """The minimum NVIDIA driver for torch's CUDA runtime ("13.0" -> (580, 65, 6)); None for a CPU
    build or a CUDA version this table does not know."""
    if not torch_cuda:
        return None
    major = parse_version(torch_cuda)[:1]
    return MIN_DRIVER.get(major[0]) if major else None


def decide(facts: Facts) -> GpuStatus:
    """The status for ``facts`` (pure: no I/O)."""
    if not facts.torch_cuda:
        if facts.nvidia_pci or facts.driver:
            need = _fmt(MIN_DRIVER[max(MIN_DRIVER)])
            driver = f", driver {facts.driver}" if facts.driver else ""
            return GpuStatus(
                "cpu-build",
                f"no CUDA device: running on the CPU (this is the CPU package, but this computer has an "
                f"NVIDIA GPU{driver}: install {CUDA_PACKAGE} to run FaceLift on it, NVIDIA driver >= {need})",
                facts,
            )
        return GpuStatus("cpu-build", "no CUDA device: running on the CPU (a CPU-only build of torch)", facts)
    needed = min_driver_for(facts.torch_cuda)
    need = _fmt(needed) if needed else ""
    requirement = f"CUDA {facts.torch_cuda} needs NVIDIA driver >= {need}" if need else ""
    if facts.missing_libraries:
        return GpuStatus(
            "libraries-missing",
            f"no CUDA device: running on the CPU (the installation lacks CUDA libraries: "
            f"{', '.join(facts.missing_libraries)}; reinstall {CUDA_PACKAGE})",
            facts,
            need,
        )
    if facts.device is not None:
        d = facts.device
        return GpuStatus(
            "cuda",
            f"running on the GPU: {d.name}, {d.total_bytes / GIB:.1f} GiB "
            f"({d.free_bytes / GIB:.1f} GiB free), NVIDIA driver {facts.driver or '?'}, CUDA {facts.torch_cuda}",
            facts,
            need,
        )
    if facts.driver is None:
        return GpuStatus(
            "no-driver",
            f"no CUDA device: running on the CPU (no NVIDIA driver found; {requirement})",
            facts,
            need,
        )
    if needed and parse_version(facts.driver) < needed:
        return GpuStatus(
            "old-driver",
            f"no CUDA device: running on the CPU (NVIDIA driver {facts.driver} is too old: {requirement})",
            facts,
            need,
        )
    why = facts.cuda_error or "the driver reports no CUDA device"
    return GpuStatus(
        "cuda-failed",
        f"no CUDA device: running on the CPU (NVIDIA driver {facts.driver}, but CUDA did not start: {why})",
        facts,
        need,
    )


# ---- gathering --------------------------------------------------------------------------


def driver_version(proc_file: Path = PROC_DRIVER, use_smi: bool = True) -> str | None:
    """The NVIDIA kernel driver's version ("580.95.05"), or None when no driver is loaded."""
    try:
        text = proc_file.read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    found = re.search(r"Kernel Module(?: for [\w-]+)?\s+(\d+(?:\.\d+)+)", text)
    if found:
        return found.group(1)
    smi = shutil.which("nvidia-smi") if use_smi else None
    if smi is None:
        return None
    try:
        out = subprocess.run(
            [smi, "--query-gpu=driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=15,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    first = out.stdout.strip().splitlines()[0].strip() if out.returncode == 0 and out.stdout.strip() else ""
    return first or None


def nvidia_on_pci(devices: Path = SYS_PCI) -> bool:
    """An NVIDIA display controller (PCI class 0x03xxxx) is present, driver or not."""
    try:
        entries = list(devices.iterdir())
    except OSError:
        return False
    for dev in entries:
        try:
            vendor = (dev / "vendor").read_text().strip().lower()
            pci_class = (dev / "class").read_text().strip().lower()
        except OSError:
            continue
        if vendor == NVIDIA_PCI_VENDOR and pci_class.startswith("0x03"):
            return True
    return False


def library_dirs() -> list[Path]:
    """Where the CUDA runtime libraries live: torch/lib and the nvidia wheels' */lib (in a
    PyInstaller bundle, the same layout under sys._MEIPASS), then the site-packages of a venv."""
    roots: list[Path] = []
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        roots.append(Path(bundle))
    try:
        import torch

        roots.append(Path(torch.__file__).resolve().parent.parent)
    except ImportError:
        pass
    dirs: list[Path] = []
    for root in roots:
        dirs += [
            root / "torch" / "lib",
            *sorted(root.glob("nvidia/*/lib")),
            *sorted(root.glob("nvidia/cu*/lib")),
        ]
        dirs.append(root)  # PyInstaller may also put a library at the top of the bundle
    return [d for d in dict.fromkeys(dirs) if d.is_dir()]


def missing_cuda_libraries(torch_cuda: str | None, dirs: Iterable[Path] | None = None) -> tuple[str, ...]:
    """The CUDA runtime libraries of :data:`CUDA_LIBRARIES` not found in ``dirs`` (default
    :func:`library_dirs`); () for a CPU build or a CUDA version the table does not list."""
    if not torch_cuda:
        return ()
    wanted = CUDA_LIBRARIES.get(parse_version(torch_cuda)[0], ())
    found: set[str] = set()
    for d in library_dirs() if dirs is None else dirs:
        found.update(p.name for p in d.iterdir() if ".so" in p.name)
    return tuple(name for name in wanted if name not in found)


def _one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())[:160]}"


def gather() -> Facts:
    """The facts on this computer (imports torch: a second or more, so callers run it off the UI
    thread)."""
    import warnings

    import torch

    torch_cuda = torch.version.cuda
    driver = driver_version()
    device = None
    error = ""
    missing = missing_cuda_libraries(torch_cuda)
    if torch_cuda and not missing:
        try:
            with warnings.catch_warnings():  # torch warns about an old driver; decide() says it
                warnings.simplefilter("ignore")
                available = torch.cuda.is_available()
            if available:
                props = torch.cuda.get_device_properties(0)
                free, total = torch.cuda.mem_get_info(0)
                device = Device(str(props.name), int(free), int(total))
        except Exception as exc:  # a driver torch cannot talk to
            error = _one_line(exc)
    return Facts(torch_cuda, driver, nvidia_on_pci(), device, error, missing)


def detect() -> GpuStatus:
    """:func:`decide` on :func:`gather`."""
    return decide(gather())
