"""``GSLRMReconstructor``: six views (+ cameras) -> engine Gaussians.

CPU runs in float32. On CUDA the forward pass runs under the reference's float16 autocast
(bfloat16 on request) with float32 weights. Either way under ``torch.inference_mode()``;
no loss and no rendering happen here.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from engine.api import CancelToken, ProgressCallback, ProgressEvent, no_progress
from engine.cameras import CameraSet, facelift_cameras
from engine.errors import Cancelled, InputError
from engine.gaussians import Gaussians
from engine.gslrm.checkpoint import load_model
from engine.gslrm.model import GSLRM, RawGaussians

Precision = Literal["auto", "fp32", "fp16", "bf16"]
_AUTOCAST = {"fp16": torch.float16, "bf16": torch.bfloat16}
NUM_VIEWS = 6


def pick_device(device: str) -> torch.device:
    """ "auto" -> CUDA when available, else CPU; "cuda" without CUDA is a one-line error."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise InputError("device 'cuda' requested but no CUDA GPU is available")
    if device not in ("cpu", "cuda"):
        raise InputError(f"unknown device {device!r}; choose auto, cpu or cuda")
    return torch.device(device)


def pick_precision(precision: str, device: torch.device) -> str:
    """ "auto" -> fp16 autocast on CUDA (the released path), fp32 on CPU."""
    if precision == "auto":
        return "fp16" if device.type == "cuda" else "fp32"
    if precision not in ("fp32", "fp16", "bf16"):
        raise InputError(f"unknown precision {precision!r}; choose auto, fp32, fp16 or bf16")
    return precision


class GSLRMReconstructor:
    """A loaded GS-LRM. Build it with :meth:`from_weights`."""

    def __init__(
        self, model: GSLRM, device: torch.device, precision: str, source: Path | None = None
    ) -> None:
        self._model: GSLRM | None = model.to(device)
        self.device = device
        self.precision = precision
        self.source = source
        self.config = model.config

    @classmethod
    def from_weights(
        cls, weights_dir: Path | str, device: str = "auto", precision: Precision = "auto"
    ) -> GSLRMReconstructor:
        """Load ``<weights_dir>/gslrm/ckpt_*.pt`` (+ its yaml). Raises WeightsError."""
        dev = pick_device(device)
        prec = pick_precision(precision, dev)
        model, ckpt = load_model(weights_dir)
        return cls(model, dev, prec, ckpt)

    @property
    def image_size(self) -> int:
        """The view size the model was trained at (views may be any multiple of the patch)."""
        return self.config.image_size

    @property
    def patch_size(self) -> int:
        return self.config.patch_size

    def unload(self) -> None:
        """Drop the weights (and the CUDA cache). The object is unusable afterwards."""
        self._model = None
        if self.device.type == "cuda":
            torch.cuda.empty_cache()

    def _autocast(self) -> contextlib.AbstractContextManager[object]:
        if self.precision == "fp32":
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=_AUTOCAST[self.precision])

    def check_views(self, views: np.ndarray, cameras: CameraSet | None) -> np.ndarray:
        """Validate (V,H,W,3) uint8 views against the cameras and the patch size."""
        views = np.asarray(views)
        if views.ndim != 4 or views.shape[-1] != 3 or views.dtype != np.uint8:
            raise InputError(f"views must be a (V,H,W,3) uint8 array, got {views.shape} {views.dtype}")
        want = NUM_VIEWS if cameras is None else len(cameras)
        if len(views) != want:
            raise InputError(f"GS-LRM needs {want} views (one per camera), got {len(views)}")
        _, h, w, _ = views.shape
        p = self.patch_size
        if h % p or w % p or h == 0 or w == 0:
            raise InputError(f"view size {w}x{h} is not divisible by the patch size {p}")
        return views

    def reconstruct(
        self,
        views: np.ndarray,
        cameras: CameraSet | None = None,
        apply_filter: bool = True,
        cancel: CancelToken | None = None,
        on_progress: ProgressCallback = no_progress,
    ) -> Gaussians:
        """Gaussians from V views in slot order.

        views (V,H,W,3) uint8 RGB, H and W multiples of the patch size (8).
        cameras: V cameras (their intrinsics are rescaled to the view size when they refer
        to another size); ``None`` = the six FaceLift cameras.
        apply_filter: the reference's filters with the CLI values; ``False`` keeps all
        n_gaussians + V*H*W Gaussians in network order.
        Raises InputError, Cancelled.
        """
        if self._model is None:
            raise RuntimeError("GSLRMReconstructor was unloaded")
        views = self.check_views(views, cameras)
        _, h, w, _ = views.shape
        cams = facelift_cameras(w, h) if cameras is None else cameras
        if (cams.width, cams.height) != (w, h):
            cams = cams.scaled(w, h)
        n_layers = self.config.n_layer
        on_progress(ProgressEvent("gslrm", 0, n_layers, "GS-LRM: reconstructing"))

        def between_layers(i: int) -> None:
            # Report first, then check: a cancel made during layer i+1 or on seeing its event
            # stops before layer i+2 starts (a layer of the full model takes ~1 min on a CPU).
            on_progress(ProgressEvent("gslrm", i + 1, n_layers, f"GS-LRM: layer {i + 1}/{n_layers}"))
            if cancel is not None and cancel.cancelled:
                raise Cancelled("cancelled by the user during GS-LRM")

        if cancel is not None:
            cancel.raise_if_cancelled()
        dev = self.device
        with torch.inference_mode():
            images = torch.from_numpy(views).to(dev).permute(0, 3, 1, 2).float().div(255.0)[None]
            c2w = torch.from_numpy(np.ascontiguousarray(cams.c2w, dtype=np.float32)).to(dev)[None]
            k = torch.from_numpy(np.ascontiguousarray(cams.fxfycxcy, dtype=np.float32)).to(dev)[None]
            with self._autocast():
                raw = self._model(images, c2w, k, between_layers=between_layers)
            gaussians = to_gaussians(raw, 0)
        if apply_filter:
            gaussians = gaussians.filter()
        return gaussians


def to_gaussians(raw: RawGaussians, index: int) -> Gaussians:
    """Sample ``index`` of the network output as an engine Gaussians (SH degree 0)."""

    def arr(t: torch.Tensor) -> np.ndarray:
        return t[index].detach().float().cpu().numpy()

    n = raw.xyz.shape[1]
    return Gaussians(
        xyz=arr(raw.xyz),
        sh_dc=arr(raw.features_dc),
        sh_rest=np.zeros((n, 0, 3), np.float32),
        log_scales=arr(raw.scaling_pre),
        quats=arr(raw.rotation),
        opacity_logits=arr(raw.opacity_pre)[:, 0],
    )
