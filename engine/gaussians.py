"""The Gaussians container: a set of 3D Gaussians in the stored (pre-activation) 3DGS form.

Only numpy; no torch. The arrays are float32, C-contiguous and read-only, so a Gaussians
object crosses threads without copies and cannot be changed behind a viewer's back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypedDict, Unpack

import numpy as np

from engine.errors import InputError
from engine.settings import FILTER_CROP_BOX, FILTER_FLOATER, FILTER_MAX_SCALE, FILTER_OPACITY
from engine.sh import SH_C0


def _as_param(name: str, value: object, shape_tail: tuple[int, ...]) -> np.ndarray:
    """Validate one parameter array and return it as a read-only float32 C-contiguous array.

    A writeable input array is copied (so the caller cannot change the set behind a
    viewer's back); read-only input, e.g. another set's arrays, is shared without a copy.
    """
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as exc:
        raise InputError(f"Gaussians: {name} is not a numeric array ({exc})") from None
    if arr.dtype.kind not in "fiu":
        raise InputError(f"Gaussians: {name} must be numeric, got dtype {arr.dtype}")
    if arr.ndim != 1 + len(shape_tail) or tuple(arr.shape[1:]) != shape_tail:
        want = "(N" + "".join(f",{d}" for d in shape_tail) + ")"
        raise InputError(f"Gaussians: {name} must have shape {want}, got {tuple(arr.shape)}")
    out = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.isfinite(out).all():
        bad = int((~np.isfinite(out)).reshape(len(out), -1).any(axis=1).sum())
        raise InputError(f"Gaussians: {name} has non-finite values in {bad} Gaussians")
    # fresh: made here (a dtype/layout conversion, or np.asarray of a list), shared with no one
    fresh = out is not arr or (not isinstance(value, np.ndarray) and arr.base is None and arr.flags.owndata)
    if not fresh and not _read_only_chain(out):
        out = out.copy()
    out.flags.writeable = False
    return out


def _read_only_chain(arr: np.ndarray) -> bool:
    """True when arr and every ndarray it is a view of are read-only."""
    a: object = arr
    while isinstance(a, np.ndarray):
        if a.flags.writeable:
            return False
        a = a.base
    return a is None or isinstance(a, bytes)


@dataclass(frozen=True, eq=False)
class Gaussians:
    """N Gaussians in the FaceLift world frame (+Z up, face toward -Y), stored parameters.

    xyz            (N,3)   centres.
    sh_dc          (N,3)   SH degree-0 coefficients per channel R,G,B.
    sh_rest        (N,K,3) higher SH coefficients, K = (degree+1)^2 - 1 (K = 0 for degree 0).
    log_scales     (N,3)   log of the standard deviations along the local axes.
    quats          (N,4)   rotation quaternions (w,x,y,z), unnormalised, as stored.
    opacity_logits (N,)    logit of the opacity.
    All float32, C-contiguous, read-only.
    """

    xyz: np.ndarray
    sh_dc: np.ndarray
    sh_rest: np.ndarray
    log_scales: np.ndarray
    quats: np.ndarray
    opacity_logits: np.ndarray

    def __post_init__(self) -> None:
        xyz = _as_param("xyz", self.xyz, (3,))
        n = len(xyz)
        try:
            rest = np.asarray(self.sh_rest)
        except (ValueError, TypeError) as exc:
            raise InputError(f"Gaussians: sh_rest is not a numeric array ({exc})") from None
        if rest.ndim != 3 or rest.shape[2:] != (3,):
            raise InputError(f"Gaussians: sh_rest must have shape (N,K,3), got {rest.shape}")
        k = rest.shape[1]
        if k not in (0, 3, 8, 15, 24):
            raise InputError(f"Gaussians: sh_rest has K={k}, not (degree+1)^2-1 for degree 0..4")
        fields = {
            "xyz": xyz,
            "sh_dc": _as_param("sh_dc", self.sh_dc, (3,)),
            "sh_rest": _as_param("sh_rest", rest, (k, 3)),
            "log_scales": _as_param("log_scales", self.log_scales, (3,)),
            "quats": _as_param("quats", self.quats, (4,)),
            "opacity_logits": _as_param("opacity_logits", self.opacity_logits, ()),
        }
        for name, arr in fields.items():
            if len(arr) != n:
                raise InputError(f"Gaussians: {name} has {len(arr)} rows but xyz has {n}")
            object.__setattr__(self, name, arr)

    # ---- construction helpers -------------------------------------------------------

    @classmethod
    def empty(cls, sh_degree: int = 0) -> Gaussians:
        k = (sh_degree + 1) ** 2 - 1
        z = np.zeros
        return cls(z((0, 3)), z((0, 3)), z((0, k, 3)), z((0, 3)), z((0, 4)), z((0,)))

    @classmethod
    def concatenate(cls, parts: Sequence[Gaussians]) -> Gaussians:
        """Join several sets (same SH degree) in order."""
        if not parts:
            return cls.empty()
        degrees = {p.sh_degree for p in parts}
        if len(degrees) != 1:
            raise InputError(f"Gaussians: cannot concatenate SH degrees {sorted(degrees)}")
        return cls(
            *(np.concatenate([getattr(p, f) for p in parts]) for f in _FIELDS)  # type: ignore[arg-type]
        )

    def replace(self, **arrays: np.ndarray) -> Gaussians:
        """A copy with some parameter arrays replaced (validated again)."""
        values = {f: getattr(self, f) for f in _FIELDS}
        values.update(arrays)
        return Gaussians(**values)

    # ---- size, selection -------------------------------------------------------------

    def __len__(self) -> int:
        return int(self.xyz.shape[0])

    @property
    def sh_degree(self) -> int:
        return round(np.sqrt(self.sh_rest.shape[1] + 1)) - 1

    def subset(self, selection: np.ndarray | slice | Sequence[int] | int) -> Gaussians:
        """The Gaussians picked by a boolean mask (N,) or an index array, order kept."""
        sel: np.ndarray | slice
        if isinstance(selection, slice):
            sel = selection
        else:
            sel = np.asarray(selection)
            if sel.ndim == 0:
                sel = sel.reshape(1)  # one Gaussian -> a set of one
            if sel.dtype == bool:
                if sel.shape != (len(self),):
                    raise InputError(f"Gaussians: mask has shape {sel.shape}, expected ({len(self)},)")
            elif sel.dtype.kind not in "iu" and sel.size:
                raise InputError(f"Gaussians: select with a boolean mask or integer indices, not {sel.dtype}")
            else:
                sel = sel.astype(np.intp)
        try:
            return Gaussians(*(getattr(self, f)[sel] for f in _FIELDS))
        except IndexError as exc:
            raise InputError(f"Gaussians: {exc}") from None

    __getitem__ = subset

    def bbox(self) -> tuple[np.ndarray, np.ndarray]:
        """Axis-aligned bounds of the centres: (min (3,), max (3,)); zeros when empty."""
        if len(self) == 0:
            return np.zeros(3, np.float32), np.zeros(3, np.float32)
        return self.xyz.min(axis=0), self.xyz.max(axis=0)

    # ---- activated views -------------------------------------------------------------

    @property
    def scales(self) -> np.ndarray:
        """(N,3) standard deviations, exp(log_scales)."""
        return np.exp(self.log_scales)

    @property
    def opacities(self) -> np.ndarray:
        """(N,) opacities in (0,1), sigmoid(opacity_logits)."""
        return _sigmoid(self.opacity_logits)

    @property
    def rotations(self) -> np.ndarray:
        """(N,4) unit quaternions (w,x,y,z); eps 1e-12 like torch's F.normalize."""
        norm = np.linalg.norm(self.quats, axis=1, keepdims=True)
        return (self.quats / np.maximum(norm, 1e-12)).astype(np.float32)

    @property
    def colors(self) -> np.ndarray:
        """(N,3) base colours 0.5 + C0*sh_dc (not clamped; clamp when displaying)."""
        return (np.float32(0.5) + np.float32(SH_C0) * self.sh_dc).astype(np.float32)

    # ---- the reference's filters -----------------------------------------------------

    def filter_masks(
        self,
        opacity_thres: float | None = FILTER_OPACITY,
        scaling_thres: float | None = FILTER_MAX_SCALE,
        floater_thres: float | None = FILTER_FLOATER,
        crop_bbx: Sequence[float] | None = FILTER_CROP_BOX,
    ) -> dict[str, np.ndarray]:
        """Boolean keep-masks (N,) after each stage of :meth:`filter`, cumulative.

        Keys: "opacity", "scaling", "floater", "crop" (each the mask after that stage;
        a skipped stage repeats the previous mask).
        """
        keep = np.ones(len(self), dtype=bool)
        out: dict[str, np.ndarray] = {}
        x, y, z = self.xyz[:, 0], self.xyz[:, 1], self.xyz[:, 2]
        if opacity_thres is not None:
            keep &= self.opacities > np.float32(opacity_thres)
        out["opacity"] = keep.copy()
        if scaling_thres is not None:
            keep &= (self.scales.max(axis=1) < np.float32(scaling_thres)) | (z > 0)
        out["scaling"] = keep.copy()
        if floater_thres is not None:
            f = np.float32(floater_thres)
            floater = (z < -f) & (np.abs(x) > f) & (np.abs(y) > f)
            keep &= ~floater
        out["floater"] = keep.copy()
        if crop_bbx is not None:
            if len(crop_bbx) != 6:
                raise InputError(f"crop box needs 6 numbers, got {len(crop_bbx)}")
            b = np.asarray(crop_bbx, dtype=np.float32)
            inside = (x >= b[0]) & (x <= b[1]) & (y >= b[2]) & (y <= b[3]) & (z >= b[4]) & (z <= b[5])
            keep &= inside
        out["crop"] = keep
        return out

    def filter(self, **thresholds: Unpack[FilterThresholds]) -> Gaussians:
        """FaceLift's ``apply_all_filters`` (spec §6.2), in its order; ``None`` skips a stage.
        The thresholds and their defaults are :meth:`filter_masks`'s:

        1. keep opacity > opacity_thres;
        2. keep max scale < scaling_thres, or z > 0 (large Gaussians above z=0 stay);
        3. drop floaters: z < -f and |x| > f and |y| > f;
        4. keep centres inside crop_bbx (xmin,xmax,ymin,ymax,zmin,zmax), bounds inclusive.
        Returns a new object; order is kept.
        """
        return self.subset(self.filter_masks(**thresholds)["crop"])


class FilterThresholds(TypedDict, total=False):
    """:meth:`Gaussians.filter_masks`'s keyword arguments (the reference's values by default)."""

    opacity_thres: float | None
    scaling_thres: float | None
    floater_thres: float | None
    crop_bbx: Sequence[float] | None


_FIELDS = ("xyz", "sh_dc", "sh_rest", "log_scales", "quats", "opacity_logits")


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """float32 logistic function that does not overflow for large |x|."""
    x = np.asarray(x, dtype=np.float32)
    out = np.empty_like(x)
    pos = x >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-x[pos]))
    ex = np.exp(x[~pos])
    out[~pos] = ex / (1.0 + ex)
    return out
