"""``render()``: pick a rasteriser (gsplat on CUDA, else the torch one) and run it."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Literal

import numpy as np

from engine.errors import InputError
from engine.gaussians import Gaussians
from engine.oom import oom_guard
from engine.render.types import Background, Camera, RenderResult, check_background

if TYPE_CHECKING:
    import torch

    from engine.render.projection import PreparedGaussians

BackendName = Literal["auto", "torch", "torch-cpu", "torch-cuda", "gsplat", "gsplat-cuda"]
BACKENDS: tuple[str, ...] = ("auto", "torch", "torch-cpu", "torch-cuda", "gsplat", "gsplat-cuda")
RENDERER_ENV = "FACELIFT_RENDERER"
"""Environment variable that replaces "auto" with a named back end (e.g. ``torch`` when
``facelift doctor`` finds that gsplat draws differently on this GPU)."""


def available_backends() -> list[str]:
    """Concrete rasterisers usable here, best first, e.g. ["gsplat-cuda", "torch-cuda", "torch-cpu"]."""
    import torch

    from engine.render.gsplat_backend import gsplat_status

    found = []
    if gsplat_status()[0]:
        found.append("gsplat-cuda")
    if torch.cuda.is_available():
        found.append("torch-cuda")
    found.append("torch-cpu")
    return found


def resolve_backend(backend: str = "auto") -> str:
    """Map a requested backend name to a concrete one ("gsplat-cuda", "torch-cuda", "torch-cpu").

    Raises InputError for an unknown name or a back end that cannot run here (one line, with
    the reason).
    """
    if backend == "auto" and os.environ.get(RENDERER_ENV, "").strip():
        backend = os.environ[RENDERER_ENV].strip()
        if backend not in BACKENDS:
            raise InputError(f"{RENDERER_ENV}={backend}: not a renderer; choose one of {', '.join(BACKENDS)}")
    if backend not in BACKENDS:
        raise InputError(f"render: unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    import torch

    from engine.render.gsplat_backend import gsplat_status

    if backend in ("gsplat", "gsplat-cuda"):
        ok, why = gsplat_status()
        if not ok:
            raise InputError(f"render: the gsplat backend is not available here: {why}")
        return "gsplat-cuda"
    if backend == "torch-cuda":
        if not torch.cuda.is_available():
            raise InputError("render: the torch-cuda backend needs a CUDA device and none was found")
        return "torch-cuda"
    if backend == "torch-cpu":
        return "torch-cpu"
    if backend == "torch":
        return "torch-cuda" if torch.cuda.is_available() else "torch-cpu"
    if backend == "auto" and gsplat_status()[0]:
        return "gsplat-cuda"
    return "torch-cuda" if torch.cuda.is_available() else "torch-cpu"


def prepare(gaussians: Gaussians | PreparedGaussians, backend: str = "auto") -> tuple[PreparedGaussians, str]:
    """Activate Gaussians onto the device of ``backend``; returns (prepared, concrete backend).

    Use it to render many frames of one set without converting it every time.
    """
    from engine.render.projection import PreparedGaussians, prepare_gaussians

    concrete = resolve_backend(backend)
    device = "cpu" if concrete == "torch-cpu" else "cuda"
    if isinstance(gaussians, PreparedGaussians):
        if gaussians.device.type != device:
            raise InputError(
                f"render: Gaussians were prepared on {gaussians.device.type}, backend {concrete} needs {device}"
            )
        return gaussians, concrete
    if not isinstance(gaussians, Gaussians):
        raise InputError(f"render: expected a Gaussians set, got {type(gaussians).__name__}")
    return prepare_gaussians(gaussians, device), concrete


def render(
    gaussians: Gaussians | PreparedGaussians,
    c2w: np.ndarray,
    fxfycxcy: np.ndarray,
    width: int,
    height: int,
    background: Background = (1.0, 1.0, 1.0),
    backend: str = "auto",
) -> RenderResult:
    """Render Gaussians from one OpenCV camera with the 3DGS rasteriser's semantics (spec §6.4).

    c2w: (4,4) camera-to-world; fxfycxcy: (4,) pixels for a width x height image;
    background: RGB in [0,1] (white by default); backend: "auto" (gsplat on CUDA when it
    runs, else torch on CUDA, else torch on the CPU), "torch", "torch-cpu", "torch-cuda" or
    "gsplat". Returns a :class:`RenderResult` (rgb not clamped; see its docstring for depth).
    """
    import torch

    cam = Camera.from_arrays(c2w, fxfycxcy, width, height)
    bg_np = check_background(background)
    prep, concrete = prepare(gaussians, backend)
    bg = torch.as_tensor(bg_np, device=prep.device)
    what = f"drawing {len(prep)} Gaussians at {width}x{height}"
    with oom_guard(what, device=concrete), torch.inference_mode():
        if concrete == "gsplat-cuda" and len(prep) > 0:
            from engine.render.gsplat_backend import rasterize_gsplat

            rgb, alpha, depth = rasterize_gsplat(prep, cam, bg)
        else:
            if concrete == "gsplat-cuda":
                concrete = "torch-cuda"  # nothing to draw; gsplat does not take empty sets
            rgb, alpha, depth = _render_torch(prep, cam, bg)
    return RenderResult(
        rgb=_np(rgb, (height, width, 3)),
        alpha=_np(alpha, (height, width)),
        depth=_np(depth, (height, width)),
        backend=concrete,
    )


def _render_torch(
    prep: PreparedGaussians, cam: Camera, bg: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    from engine.render.projection import project
    from engine.render.torch_raster import rasterize

    return rasterize(project(prep, cam), cam.width, cam.height, bg)


def _np(t: torch.Tensor, shape: tuple[int, ...]) -> np.ndarray:
    """A float32 numpy copy of a (possibly CUDA) tensor, checked to have ``shape``."""
    return np.ascontiguousarray(t.detach().float().cpu().numpy()).reshape(shape)
