"""The antimatter15 ``.splat`` format: 32 bytes per Gaussian, no header, no SH beyond degree 0.

Layout of one record (little-endian), per ``spec/formats.md``:

    offset  0  position  3 x float32
    offset 12  scale     3 x float32   activated: exp(log_scale)
    offset 24  colour    4 x uint8     R,G,B = (0.5 + C0*sh_dc)*255, A = sigmoid(opacity)*255
    offset 28  rotation  4 x uint8     normalised quaternion (w,x,y,z) * 128 + 128

Bytes are clipped to [0,255] and truncated (``clip(x,0,255).astype(uint8)``, as antimatter15's
and FaceLift's converters do). Records are sorted by ``-exp(sum(log_scale)) * sigmoid(opacity)`` ascending, i.e. the
largest, most opaque Gaussians first (FaceLift ``website/splat/convert.py``). Higher SH
coefficients are dropped; the format has no room for them.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from engine.errors import InputError
from engine.gaussians import Gaussians
from engine.io.atomic import atomic_write
from engine.sh import SH_C0

RECORD_DTYPE = np.dtype(
    [("xyz", "<f4", (3,)), ("scale", "<f4", (3,)), ("rgba", "u1", (4,)), ("rot", "u1", (4,))]
)
assert RECORD_DTYPE.itemsize == 32

# Reading quantised alpha: keep logits finite for alpha bytes 0 and 255.
_ALPHA_EPS = 0.5 / 255.0


def splat_order(g: Gaussians) -> np.ndarray:
    """(N,) int64 indices in .splat order: by -exp(sum log_scales) * opacity, ascending (stable)."""
    key = -np.exp(g.log_scales.astype(np.float64).sum(axis=1)) * g.opacities.astype(np.float64)
    return np.argsort(key, kind="stable")


def _to_byte(x: np.ndarray) -> np.ndarray:
    return np.clip(x, 0, 255).astype(np.uint8)


def to_splat_records(g: Gaussians) -> np.ndarray:
    """(N,) structured array of :data:`RECORD_DTYPE`, already in .splat order."""
    order = splat_order(g)
    rec = np.empty(len(g), dtype=RECORD_DTYPE)
    rec["xyz"] = g.xyz[order]
    rec["scale"] = g.scales[order]
    rgb = g.colors[order].astype(np.float64) * 255.0
    alpha = g.opacities[order].astype(np.float64)[:, None] * 255.0
    rec["rgba"] = _to_byte(np.concatenate([rgb, alpha], axis=1))
    rec["rot"] = _to_byte(g.rotations[order].astype(np.float64) * 128.0 + 128.0)
    return rec


def save_splat(g: Gaussians, path: str | os.PathLike[str]) -> None:
    """Write ``g`` as a .splat file, atomically (temp file in the same folder, then rename)."""
    data = to_splat_records(g).tobytes()
    with atomic_write(Path(path)) as tmp:
        tmp.write_bytes(data)


def load_splat(path: str | os.PathLike[str]) -> Gaussians:
    """Read a .splat file back into stored parameters (degree-0 SH).

    Inverse of the quantisation: sh_dc = (byte/255 - 0.5)/C0, opacity logit of byte/255 (clamped
    half a step inside (0,1)), log_scales = log(scale) (a zero scale becomes log(1e-12)),
    quats = (byte - 128)/128 (unnormalised, as stored). Raises InputError for a file whose size is
    not a multiple of 32 bytes or that holds non-finite values.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    if len(raw) % RECORD_DTYPE.itemsize:
        raise InputError(f"{path}: not a .splat file (size {len(raw)} is not a multiple of 32 bytes)")
    rec = np.frombuffer(raw, dtype=RECORD_DTYPE)
    rgba = rec["rgba"].astype(np.float32) / np.float32(255.0)
    alpha = np.clip(rgba[:, 3], _ALPHA_EPS, 1.0 - _ALPHA_EPS)
    scale = rec["scale"].astype(np.float32)
    if not np.isfinite(rec["xyz"]).all() or not np.isfinite(scale).all():
        raise InputError(f"{path}: .splat file holds non-finite positions or scales")
    return Gaussians(
        xyz=rec["xyz"],
        sh_dc=(rgba[:, :3] - np.float32(0.5)) / np.float32(SH_C0),
        sh_rest=np.zeros((len(rec), 0, 3), np.float32),
        log_scales=np.log(np.maximum(scale, np.float32(1e-12))),
        quats=(rec["rot"].astype(np.float32) - np.float32(128.0)) / np.float32(128.0),
        opacity_logits=np.log(alpha / (1.0 - alpha)),
    )
