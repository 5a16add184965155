"""FaceLift's framing: mediapipe geometry -> the reference's MTCNN box -> the 512x512 crop.

Constants come from ``resources/face_framing.json`` (a copy of the shared reference note's
data). The crop reproduces ``crop_face``'s integer arithmetic exactly (spec §1a); only the
resize is done on the needed region instead of the whole photo, which gives the same pixels
(PIL computes each output pixel's filter window from the full image) at a fraction of the cost.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

RESOURCES = Path(__file__).resolve().parent.parent.parent / "resources"
FRAMING_JSON = RESOURCES / "face_framing.json"


@lru_cache(maxsize=1)
def framing_constants() -> dict[str, Any]:
    """The parsed face_framing.json (read once)."""
    data: dict[str, Any] = json.loads(FRAMING_JSON.read_text(encoding="utf-8"))
    return data


def canvas_size() -> int:
    return int(framing_constants()["reference"]["canvas"])


def target_face() -> tuple[float, float, float]:
    """(cx, cy, size) where the reference puts the MTCNN face on its 512 canvas."""
    ref = framing_constants()["reference"]
    cx, cy = ref["face_center"]
    return float(cx), float(cy), float(ref["face_size"])


def fallback_min_score() -> float:
    return float(framing_constants()["usage"]["fallback_min_score"])


@dataclass(frozen=True)
class FaceEstimate:
    """The predicted MTCNN face in photo pixels: centre (cx, cy), size s = mean(w, h).

    source: "mesh" (primary mapping) or "detection-0" / "detection-1" (fallback, by model).
    score: the face-detection confidence in [0, 1].
    """

    cx: float
    cy: float
    size: float
    source: str
    score: float

    @property
    def box(self) -> tuple[float, float, float, float]:
        """The equivalent square box (x1, y1, x2, y2)."""
        h = self.size / 2.0
        return (self.cx - h, self.cy - h, self.cx + h, self.cy + h)


def face_from_mesh(points_xy: np.ndarray, score: float) -> FaceEstimate:
    """Primary mapping from mesh landmarks 0..467 in photo pixels (N,2) float."""
    c = framing_constants()["mapping"]["primary"]
    pts = np.asarray(points_xy, dtype=np.float64)[:468, :2]
    x0, y0 = pts.min(axis=0)
    x1, y1 = pts.max(axis=0)
    bw, bh = x1 - x0, y1 - y0
    return FaceEstimate(
        cx=float((x0 + x1) / 2 + c["ax"] * bw),
        cy=float((y0 + y1) / 2 + c["ay"] * bh),
        size=float(c["k"] * (bw + bh) / 2),
        source="mesh",
        score=float(score),
    )


def face_from_detection(
    box_xywh: tuple[float, float, float, float], score: float, model: int
) -> FaceEstimate:
    """Fallback mapping from a face_detection box (xmin, ymin, w, h) in photo pixels."""
    key = "fallback" if model == 0 else "fallback_full_range"
    c = framing_constants()["mapping"][key]
    x, y, w, h = (float(v) for v in box_xywh)
    return FaceEstimate(
        cx=x + w / 2 + c["ax"] * w,
        cy=y + h / 2 + c["ay"] * h,
        size=c["k"] * (w + h) / 2,
        source=f"detection-{model}",
        score=float(score),
    )


@dataclass(frozen=True)
class CropPlan:
    """crop_face's arithmetic for one photo of width x height and one face.

    ratio: the resize ratio r; scaled: (sw, sh) = (int(W r), int(H r)), the size PIL resizes
    the whole photo to; crop: (left, top, right, bottom) on the scaled photo; paste: (x, y)
    on the white canvas. A photo point p lands at p * (sw/W, sh/H) + shift.
    """

    ratio: float
    width: int
    height: int
    scaled: tuple[int, int]
    crop: tuple[int, int, int, int]
    paste: tuple[int, int]

    @property
    def shift(self) -> tuple[int, int]:
        return (self.paste[0] - self.crop[0], self.paste[1] - self.crop[1])

    @property
    def scale_xy(self) -> tuple[float, float]:
        """Photo px -> canvas px factors actually applied (sw/W, sh/H)."""
        return (self.scaled[0] / self.width, self.scaled[1] / self.height)

    def to_canvas(self, points_xy: np.ndarray) -> np.ndarray:
        """Map (N,2) photo pixel coordinates to canvas pixel coordinates."""
        pts = np.asarray(points_xy, dtype=np.float64)
        sx, sy = self.scale_xy
        return np.stack([pts[:, 0] * sx + self.shift[0], pts[:, 1] * sy + self.shift[1]], axis=1)


def plan_crop(width: int, height: int, face: FaceEstimate) -> CropPlan:
    """The reference's crop_face arithmetic (spec §1a steps 4-8) with our face estimate."""
    tx, ty, target_size = target_face()
    n = canvas_size()
    r = target_size / face.size
    sw, sh = int(width * r), int(height * r)
    scx, scy = int(face.cx * r), int(face.cy * r)
    dx, dy = tx - scx, ty - scy
    crop = (int(max(0, -dx)), int(max(0, -dy)), int(min(sw, n - dx)), int(min(sh, n - dy)))
    paste = (int(max(0, dx)), int(max(0, dy)))
    return CropPlan(r, width, height, (sw, sh), crop, paste)


def _fill_value(image: Image.Image, fill: tuple[int, ...] | int) -> int | tuple[int, ...]:
    """A canvas colour for ``image``'s mode: an int fills every band (PIL would fill only
    the first band of a multi-band image with a bare int)."""
    bands = len(image.getbands())
    if isinstance(fill, int):
        return fill if bands == 1 else (fill,) * bands
    return tuple(fill)


def apply_crop(image: Image.Image, plan: CropPlan, fill: tuple[int, ...] | int = 255) -> Image.Image:
    """The 512x512 canvas: the plan's region of the bicubic-resized photo pasted on ``fill``.

    Resizes only the cropped region (PIL ``resize(box=...)``): each output pixel's filter
    window is the same as in a whole-photo resize, so the pixels match the reference's.
    """
    n = canvas_size()
    canvas = Image.new(image.mode, (n, n), _fill_value(image, fill))
    left, top, right, bottom = plan.crop
    if right <= left or bottom <= top:
        return canvas  # the face is entirely off the canvas (cannot happen for a found face)
    sw, sh = plan.scaled
    fx, fy = image.width / sw, image.height / sh
    region = image.resize(
        (right - left, bottom - top),
        Image.Resampling.BICUBIC,
        box=(left * fx, top * fy, right * fx, bottom * fy),
    )
    canvas.paste(region, plan.paste)
    return canvas


@dataclass(frozen=True)
class FitPlan:
    """The no-crop framing: the whole photo scaled to fit 512 (aspect kept), centred on white."""

    width: int
    height: int
    scaled: tuple[int, int]
    paste: tuple[int, int]

    @property
    def scale_xy(self) -> tuple[float, float]:
        return (self.scaled[0] / self.width, self.scaled[1] / self.height)


def plan_fit(width: int, height: int) -> FitPlan:
    n = canvas_size()
    r = n / max(width, height)
    sw, sh = max(1, round(width * r)), max(1, round(height * r))
    return FitPlan(width, height, (sw, sh), ((n - sw) // 2, (n - sh) // 2))


def apply_fit(image: Image.Image, plan: FitPlan, fill: tuple[int, ...] | int = 255) -> Image.Image:
    n = canvas_size()
    canvas = Image.new(image.mode, (n, n), _fill_value(image, fill))
    canvas.paste(image.resize(plan.scaled, Image.Resampling.BICUBIC), plan.paste)
    return canvas
