"""What this computer offers FaceLift: OS, Python, torch and CUDA, GPUs, gsplat, ffmpeg, OpenGL,
the weights folder. Every probe catches its own failures and says what it found in one line.

Nothing here needs a GPU or a display: without one the facts say so ("no CUDA device",
"no display"). The OpenGL renderer is asked for in a child process (a broken driver can crash
the process that creates a context), by :mod:`facelift_desktop.gl_probe` (the engine itself
imports no Qt).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine import gpu_status

GIB = 1024**3
GL_PROBE_ENV = "FACELIFT_GL_PROBE"
"""Set to 1 in the environment of the frozen app to make it print its OpenGL facts and exit."""
GL_PROBE_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class GpuInfo:
    """One CUDA device: free/total memory in bytes, compute capability, bf16 support."""

    index: int
    name: str
    free_bytes: int
    total_bytes: int
    capability: tuple[int, int]
    bf16: bool

    def describe(self) -> str:
        major, minor = self.capability
        return (
            f"cuda:{self.index} {self.name}: {self.free_bytes / GIB:.1f} of {self.total_bytes / GIB:.1f} GiB "
            f"free, compute capability {major}.{minor}{', bf16' if self.bf16 else ''}"
        )


@dataclass
class Environment:
    """The facts, as (label, text) lines for people and a dict for ``--json``.

    gpus: usable CUDA devices (empty without one); gsplat_ok: gsplat's CUDA rasteriser runs.
    """

    lines: list[tuple[str, str]] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    gpus: list[GpuInfo] = field(default_factory=list)
    gsplat_ok: bool = False

    def add(self, label: str, text: str, key: str, value: Any) -> None:
        self.lines.append((label, text))
        self.facts[key] = value


def _one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())[:160]}"


def nvidia_driver_version(proc_file: Path = Path("/proc/driver/nvidia/version")) -> str | None:
    """The NVIDIA kernel driver's version (e.g. "550.54.14"), or None when no driver is loaded."""
    return gpu_status.driver_version(proc_file)


def cuda_gpus() -> list[GpuInfo]:
    """Every CUDA device torch can use (empty on a CPU-only build or without a device)."""
    import torch

    if not torch.cuda.is_available():
        return []
    gpus = []
    for i in range(torch.cuda.device_count()):
        props = torch.cuda.get_device_properties(i)
        free, total = torch.cuda.mem_get_info(i)
        cap = (int(props.major), int(props.minor))
        gpus.append(GpuInfo(i, str(props.name), int(free), int(total), cap, bf16=cap >= (8, 0)))
    return gpus


def ffmpeg_facts() -> tuple[bool, str]:
    """(H.264 available, description) of the ffmpeg the video writer uses (imageio-ffmpeg's)."""
    try:
        import imageio_ffmpeg

        exe = imageio_ffmpeg.get_ffmpeg_exe()
        version = subprocess.run(
            [exe, "-hide_banner", "-version"], capture_output=True, text=True, timeout=20, check=False
        ).stdout.split("\n", 1)[0]
        encoders = subprocess.run(
            [exe, "-hide_banner", "-encoders"], capture_output=True, text=True, timeout=20, check=False
        ).stdout
    except Exception as exc:  # no binary, not executable, a timeout
        return False, f"not usable ({_one_line(exc)}): turntable videos cannot be written"
    h264 = "libx264" in encoders
    name = version.split(" Copyright")[0].strip() or "ffmpeg"
    return h264, f"{name}, H.264 (libx264) {'yes' if h264 else 'MISSING: MP4 turntables cannot be written'}"


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def gl_probe_command() -> tuple[list[str], dict[str, str]]:
    """The child process that prints the OpenGL facts: the frozen app with FACELIFT_GL_PROBE=1,
    else this Python running facelift_desktop.gl_probe."""
    env = dict(os.environ)
    if getattr(sys, "frozen", False):
        env[GL_PROBE_ENV] = "1"
        return [sys.executable], env
    return [sys.executable, "-m", "facelift_desktop.gl_probe"], env


def opengl_renderer(timeout: float = GL_PROBE_TIMEOUT_S) -> str:
    """The OpenGL renderer and version an app window gets here, "no display", or why not known."""
    if not has_display():
        return "no display"
    cmd, env = gl_probe_command()
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired:
        return f"unknown (the OpenGL probe did not answer in {timeout:.0f} s)"
    except OSError as exc:
        return f"unknown ({_one_line(exc)})"
    for line in reversed(out.stdout.strip().splitlines()):
        try:
            data = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(data, dict) and "renderer" in data:
            return f"{data['renderer']}, OpenGL {data.get('version', '?')}"
        if isinstance(data, dict) and "error" in data:
            return f"not usable: {data['error']}"
    tail = " ".join(out.stderr.split())[-160:]
    return f"unknown (the OpenGL probe exited with {out.returncode}{': ' + tail if tail else ''})"


def weights_facts(explicit: Path | str | None = None) -> tuple[str, dict[str, Any]]:
    """The weights folder that would be used and its verification, in one line."""
    from engine import weights as w

    try:
        found = w.find_weights(explicit)
    except Exception as exc:  # an explicit folder that does not exist
        return f"not usable ({_one_line(exc)})", {"path": str(explicit), "ok": False}
    if found is None:
        return (
            f"not found (looked in ${w.ENV_VAR} and {w.user_weights_dir()}): the instant engine is used; "
            "`facelift weights download` fetches FaceLift's",
            {"path": None, "ok": False},
        )
    report = w.verify_weights(found)
    return report.summary(), {"path": str(found), "ok": report.ok}


def collect(
    weights_dir: Path | str | None = None, opengl: str | None = None, probe_gl: bool = True
) -> Environment:
    """Gather every fact. opengl: the renderer string when the caller already knows it (the
    window passes its viewport's); probe_gl False skips the child-process probe ("not probed")."""
    import torch

    from engine import __version__

    env = Environment()
    env.add("FaceLift Desktop", __version__, "app_version", __version__)
    env.add("OS", platform.platform(), "os", platform.platform())
    env.add("Python", sys.version.split()[0], "python", sys.version.split()[0])
    cuda_build = torch.version.cuda
    build = f"built for CUDA {cuda_build}" if cuda_build else "a CPU-only build"
    env.add(
        "torch", f"{torch.__version__}, {build}", "torch", {"version": torch.__version__, "cuda": cuda_build}
    )
    driver = nvidia_driver_version()
    env.add("NVIDIA driver", driver or "none found", "nvidia_driver", driver)
    try:
        env.gpus = cuda_gpus()
    except Exception as exc:  # a driver that torch cannot talk to
        env.add("GPUs", f"CUDA not usable ({_one_line(exc)})", "gpus", [])
    for gpu in env.gpus:
        env.lines.append(("GPU", gpu.describe()))
    env.facts["gpus"] = [
        {
            "index": g.index,
            "name": g.name,
            "free_bytes": g.free_bytes,
            "total_bytes": g.total_bytes,
            "capability": list(g.capability),
            "bf16": g.bf16,
        }
        for g in env.gpus
    ]
    # without a device, why: no driver, a driver too old for torch's CUDA, missing libraries, or
    # the CPU package (which then says that a CUDA package exists when an NVIDIA GPU is present)
    status = gpu_status.detect()
    if not env.gpus:
        env.lines.append(("GPU", status.message))
    env.facts["gpu_status"] = {
        "kind": status.kind,
        "message": status.message,
        "min_driver": status.min_driver,
    }
    env.gsplat_ok, gsplat_text = gsplat_facts()
    env.add("gsplat", gsplat_text, "gsplat", {"cuda_rasteriser": env.gsplat_ok, "text": gsplat_text})
    h264, ffmpeg_text = ffmpeg_facts()
    env.add("ffmpeg", ffmpeg_text, "ffmpeg", {"h264": h264, "text": ffmpeg_text})
    if opengl is None:
        opengl = opengl_renderer() if probe_gl else "not probed"
    env.add("OpenGL", opengl, "opengl", opengl)
    text, facts = weights_facts(weights_dir)
    env.add("weights", text, "weights", facts)
    return env


def gsplat_facts() -> tuple[bool, str]:
    """(CUDA rasteriser usable, description)."""
    try:
        from importlib.metadata import PackageNotFoundError, version

        try:
            gsplat_version = version("gsplat")
        except PackageNotFoundError:
            return False, "not installed: the app's own torch rasteriser draws on the GPU too"
        from engine.render.gsplat_backend import gsplat_status

        ok, why = gsplat_status()
    except Exception as exc:
        return False, f"not usable ({_one_line(exc)})"
    if ok:
        return True, f"{gsplat_version}, CUDA rasteriser compiled and running"
    return False, f"{gsplat_version} installed, CUDA rasteriser not usable: {why}"
