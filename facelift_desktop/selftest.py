"""``facelift-desktop --self-test``: check that an installed copy really works, in about a minute.

Steps (each prints one line; the first failure stops the test with its reason):
  1. import every module of engine/, viewer/ and facelift_desktop/ and the heavy libraries
     (torch, mediapipe, diffusers, transformers, PySide6, VisPy) -- in a frozen bundle this
     is what catches a missing hidden import, data file or package metadata;
  2. the GPU check (engine.gpu_status): in the CUDA package, that every CUDA runtime library
     torch loads is in the bundle (a missing one fails the test, naming it), and which device
     FaceLift runs on here and why (no driver, a driver too old for the bundled CUDA runtime);
  3. find the bundled resources (sample photo, cameras, prompt embeddings);
  4. run the instant engine on the sample photo (preprocess + reconstruct);
  5. render one frame from the front camera and check the head covers part of it;
  6. write a PLY and read it back; write a short turntable MP4 -- in a temporary folder;
  7. when a display is available, create an OpenGL context and report its renderer.
Works from a source checkout and from the PyInstaller bundle (resources via ``sys._MEIPASS``).
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

PACKAGES = ("engine", "viewer", "facelift_desktop")
LIBRARIES = ("numpy", "torch", "mediapipe", "diffusers", "transformers", "PySide6.QtWidgets", "vispy.app")
SAMPLE = Path("samples") / "astronaut.png"
REQUIRED_RESOURCES = (SAMPLE, Path("cameras") / "opencv_cameras.json", Path("clr_embeds.safetensors"))
RENDER_SIZE = 256
VIDEO_FRAMES = 6
VIDEO_SIZE = 128
MIN_COVERAGE = 0.02
"""A head seen from the front covers well over 2 % of the frame; an empty render covers 0."""


class SelfTestFailure(Exception):
    """A step failed; the message is the one-line reason shown to the user."""


def resources_dir() -> Path:
    """The resources/ folder: inside the bundle when frozen, else beside the packages."""
    if getattr(sys, "frozen", False):
        return Path(getattr(sys, "_MEIPASS", Path(sys.executable).parent)) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


@dataclass
class _Context:
    out_dir: Path
    emit: Callable[[str], None]
    data: dict[str, Any] = field(default_factory=dict)


def _walk_modules(package: str) -> list[str]:
    pkg = importlib.import_module(package)
    names = [package]
    for info in pkgutil.walk_packages(pkg.__path__, prefix=f"{package}."):
        if ".tests" in info.name or info.name.endswith("__main__"):
            continue
        names.append(info.name)
    return names


def _importable(name: str, failures: list[str]) -> bool:
    """Import ``name``; on failure note ``name (Error: message)`` in ``failures``."""
    try:
        importlib.import_module(name)
    except Exception as exc:
        failures.append(f"{name} ({type(exc).__name__}: {exc})")
        return False
    return True


def _step_imports(ctx: _Context) -> str:
    failures: list[str] = []
    count = sum(_importable(lib, failures) for lib in LIBRARIES)
    for package in PACKAGES:
        try:
            names = _walk_modules(package)
        except Exception as exc:
            failures.append(f"{package} ({type(exc).__name__}: {exc})")
            continue
        count += sum(_importable(name, failures) for name in names)
    if failures:
        more = f" and {len(failures) - 3} more" if len(failures) > 3 else ""
        raise SelfTestFailure(f"cannot import {'; '.join(failures[:3])}{more}")
    import torch

    return f"{count} modules (torch {torch.__version__})"


def _step_gpu(ctx: _Context) -> str:
    from engine import gpu_status

    status = gpu_status.detect()
    if status.kind == "libraries-missing":
        raise SelfTestFailure(status.message)
    return status.message


def _step_resources(ctx: _Context) -> str:
    from engine import cameras

    res = resources_dir()
    missing = [str(res / rel) for rel in REQUIRED_RESOURCES if not (res / rel).is_file()]
    if not cameras.DEFAULT_CAMERAS_JSON.is_file():
        missing.append(f"{cameras.DEFAULT_CAMERAS_JSON} (engine.cameras)")
    if missing:
        raise SelfTestFailure(f"bundled resources missing: {', '.join(missing)}")
    cameras.facelift_cameras()
    return str(res)


def _step_instant(ctx: _Context) -> str:
    from engine.instant import InstantReconstructor
    from engine.io.images import load_photo
    from engine.preprocess import preprocess_photo

    photo = load_photo(resources_dir() / SAMPLE)
    prepared = preprocess_photo(photo, auto_crop=True)
    gaussians = InstantReconstructor().reconstruct(prepared).gaussians
    if len(gaussians) == 0:
        raise SelfTestFailure("the instant engine returned no Gaussians for the sample photo")
    ctx.data["gaussians"] = gaussians
    return f"{len(gaussians):,} Gaussians from {SAMPLE.name} (face score {prepared.score:.2f})"


def _step_render(ctx: _Context) -> str:
    from engine.cameras import facelift_cameras
    from engine.render import render

    cams = facelift_cameras(RENDER_SIZE)
    result = render(ctx.data["gaussians"], cams.c2w[0], cams.fxfycxcy[0], RENDER_SIZE, RENDER_SIZE)
    coverage = float(np.mean(result.alpha > 0.5))
    if not np.isfinite(result.rgb).all():
        raise SelfTestFailure("the rendered frame has non-finite pixels")
    if coverage < MIN_COVERAGE:
        raise SelfTestFailure(f"the rendered front view is (nearly) empty: {coverage:.1%} covered")
    return f"{RENDER_SIZE}x{RENDER_SIZE} front view, {coverage:.0%} covered ({result.backend})"


def _step_files(ctx: _Context) -> str:
    from engine.io.export import write_turntable
    from engine.io.ply import load_ply, save_ply

    gaussians = ctx.data["gaussians"]
    ply = ctx.out_dir / "selftest.ply"
    save_ply(gaussians, ply)
    back = load_ply(ply)
    if len(back) != len(gaussians) or not np.allclose(back.xyz, gaussians.xyz):
        raise SelfTestFailure(
            f"{ply}: read back {len(back)} Gaussians that differ from the {len(gaussians)} written"
        )
    mp4 = ctx.out_dir / "selftest.mp4"
    # Every 4th Gaussian: this step checks the turntable + H.264 path, not the picture, and the
    # CPU rasteriser's time grows with the count.
    write_turntable(
        gaussians.subset(slice(None, None, 4)),
        mp4,
        num_frames=VIDEO_FRAMES,
        fps=VIDEO_FRAMES,
        size=VIDEO_SIZE,
    )
    if not mp4.is_file() or mp4.stat().st_size == 0:
        raise SelfTestFailure(f"{mp4}: the video was not written")
    with mp4.open("rb") as fh:
        if fh.read(12)[4:8] != b"ftyp":
            raise SelfTestFailure(f"{mp4}: not an MP4 file")
    return f"PLY {ply.stat().st_size / 1e6:.1f} MB, MP4 {mp4.stat().st_size / 1e3:.0f} kB ({VIDEO_FRAMES} frames)"


def _has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _step_opengl(ctx: _Context) -> str:
    if not _has_display():
        return "skipped (no display)"
    from facelift_desktop.gl_probe import opengl_info

    try:
        info = opengl_info()
    except RuntimeError as exc:
        raise SelfTestFailure(str(exc)) from exc
    major, minor = int(info["major"]), int(info["minor"])  # type: ignore[call-overload]
    if (major, minor) < (2, 1):
        raise SelfTestFailure(
            f"OpenGL {major}.{minor} is too old; the viewer needs OpenGL 2.1 ({info['renderer']})"
        )
    return f"{info['renderer']}, OpenGL {info['version']}"


STEPS: tuple[tuple[str, Callable[[_Context], str]], ...] = (
    ("imports", _step_imports),
    ("GPU", _step_gpu),
    ("resources", _step_resources),
    ("instant engine", _step_instant),
    ("render", _step_render),
    ("PLY + MP4", _step_files),
    ("OpenGL", _step_opengl),
)


def run_self_test(emit: Callable[[str], None] | None = None, keep_dir: Path | None = None) -> int:
    """Run every step; print one line each and a summary. Returns 0 when all pass, 1 otherwise.

    emit: where lines go (default: print to stdout, flushed). keep_dir: write the PLY and MP4
    there instead of a temporary folder that is deleted afterwards.
    """
    out = emit or (lambda line: print(line, flush=True))
    frozen = "bundle" if getattr(sys, "frozen", False) else "source"
    out(f"FaceLift Desktop self-test ({frozen}, Python {sys.version.split()[0]}, {sys.platform})")
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="facelift-selftest-") as tmp:
        ctx = _Context(Path(keep_dir) if keep_dir else Path(tmp), out)
        ctx.out_dir.mkdir(parents=True, exist_ok=True)
        for name, step in STEPS:
            t0 = time.monotonic()
            try:
                detail = step(ctx)
            except SelfTestFailure as exc:
                out(f"  FAIL {name}: {exc}")
                out(f"self-test FAILED at '{name}' after {time.monotonic() - start:.1f} s")
                return 1
            except Exception as exc:  # an unexpected error is a failure too, with its traceback
                out(f"  FAIL {name}: {type(exc).__name__}: {exc}")
                out("".join(traceback.format_exception(exc)).rstrip())
                out(f"self-test FAILED at '{name}' after {time.monotonic() - start:.1f} s")
                return 1
            out(f"  ok   {name}: {detail} [{time.monotonic() - t0:.1f} s]")
    out(f"self-test passed: {len(STEPS)} steps in {time.monotonic() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(run_self_test())
