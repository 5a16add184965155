"""Make the instant engine's test portraits (tests/fixtures/portraits/*.jpg) from bundled images.

Only images shipped inside installed packages are used (no network):

* ``astronaut`` -- scikit-image ``data.astronaut()``: Eileen Collins, NASA photo, public domain.
* ``hopper`` -- matplotlib ``sample_data/grace_hopper.jpg``: Grace Hopper, US Navy photo, public
  domain.

The other six are derived from those two by filters and drawings made here, and are what their
names say, no more: ``astronaut_painting`` (edge-preserving stylisation + colour quantisation:
a painting *style*), ``hopper_lineart`` (adaptive-threshold ink lines over a four-level grey wash: line art), ``astronaut_turned``
(mirrored, then a horizontal perspective warp that squeezes one side of the face: imitates a
turned head, it is not a real one), ``hopper_glasses`` (round dark glasses drawn at the eye
landmarks), ``astronaut_beard`` (a textured dark beard drawn along the jaw landmarks) and
``hopper_curly`` (long curly hair drawn as random arcs around the head down to the shoulders).

Run: ``python bench/portraits.py [OUT_DIR]`` (default tests/fixtures/portraits). Deterministic.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

JAW = (234, 93, 132, 58, 172, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365, 397, 288, 361, 323, 454)
EYE_R, EYE_L = (33, 133), (362, 263)  # outer/inner corners of each eye (image left, image right)
MOUTH = (61, 291, 0, 17)


def astronaut() -> np.ndarray:
    from skimage import data

    return np.asarray(data.astronaut())


def hopper() -> np.ndarray:
    import matplotlib.cbook as cbook
    from PIL import Image

    with cbook.get_sample_data("grace_hopper.jpg") as f:
        return np.asarray(Image.open(f).convert("RGB"))


def _landmarks(rgb: np.ndarray) -> np.ndarray:
    from engine.preprocess import mediapipe_graphs as mpg

    lm = mpg.face_mesh(rgb)
    if lm is None:
        raise RuntimeError("no face mesh on a base portrait")
    return np.asarray(lm)


def painting(rgb: np.ndarray) -> np.ndarray:
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    styl = cv2.stylization(bgr, sigma_s=40, sigma_r=0.35)
    quant = (styl // 24) * 24 + 12
    return cv2.cvtColor(cv2.bilateralFilter(quant.astype(np.uint8), 5, 40, 5), cv2.COLOR_BGR2RGB)


def lineart(rgb: np.ndarray) -> np.ndarray:
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    smooth = cv2.bilateralFilter(cv2.medianBlur(gray, 5), 9, 60, 9)
    lines = cv2.adaptiveThreshold(smooth, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 9, 5)
    lines = cv2.medianBlur(lines, 3)
    tone = (np.digitize(smooth, [60, 120, 180]) * 60 + 75).astype(np.uint8)  # a 4-level grey wash
    out = np.minimum(lines, tone)
    return np.repeat(out[:, :, None], 3, axis=2)


def turned(rgb: np.ndarray) -> np.ndarray:
    img = rgb[:, ::-1].copy()
    h, w = img.shape[:2]
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = np.float32([[0.10 * w, 0.04 * h], [w, 0], [w, h], [0.10 * w, 0.96 * h]])
    m = cv2.getPerspectiveTransform(src, dst)
    return cv2.warpPerspective(img, m, (w, h), borderMode=cv2.BORDER_REPLICATE)


def glasses(rgb: np.ndarray) -> np.ndarray:
    img = rgb.copy()
    lm = _landmarks(rgb)
    centres = []
    for a, b in (EYE_R, EYE_L):
        c = 0.5 * (lm[a, :2] + lm[b, :2])
        r = 0.75 * float(np.linalg.norm(lm[a, :2] - lm[b, :2]))
        centres.append((c, r))
        cv2.circle(img, (int(c[0]), int(c[1])), int(r), (20, 20, 25), max(2, int(r / 7)), cv2.LINE_AA)
    (c0, r0), (c1, _r1) = centres
    t = max(2, int(r0 / 8))
    cv2.line(img, (int(c0[0] + r0), int(c0[1])), (int(c1[0] - r0), int(c1[1])), (20, 20, 25), t, cv2.LINE_AA)
    return img


def beard(rgb: np.ndarray) -> np.ndarray:
    img = rgb.astype(np.float64)
    lm = _landmarks(rgb)
    jaw = lm[list(JAW), :2]
    mouth = lm[list(MOUTH), :2]
    top = mouth[:, 1].mean()
    poly = np.concatenate([jaw, [[jaw[-1, 0], top], [jaw[0, 0], top]]]).astype(np.int32)
    mask = np.zeros(rgb.shape[:2], np.uint8)
    cv2.fillPoly(mask, [poly], 255)
    mouth_poly = cv2.convexHull(lm[[61, 40, 37, 0, 267, 270, 291, 321, 314, 17, 84, 91], :2].astype(np.int32))
    cv2.fillPoly(mask, [mouth_poly], 0)
    rng = np.random.default_rng(3)
    strands = np.zeros(rgb.shape[:2], np.float64)
    ys, xs = np.nonzero(mask)
    for i in rng.choice(len(ys), size=min(1500, len(ys)), replace=False):
        x0, y0 = int(xs[i]), int(ys[i])
        dx = int(rng.normal(0, 2))
        cv2.line(strands, (x0, y0), (x0 + dx, y0 + int(rng.integers(4, 9))), 1.0, 1, cv2.LINE_AA)
    soft = cv2.GaussianBlur(mask.astype(np.float64) / 255.0, (0, 0), 2.0)
    base = np.array([58.0, 40.0, 30.0]) * (1.0 - 0.5 * np.clip(strands, 0, 1))[:, :, None]
    out = img * (1 - soft[:, :, None]) + base * soft[:, :, None]
    return np.clip(out, 0, 255).astype(np.uint8)


def curly(rgb: np.ndarray) -> np.ndarray:
    img = rgb.copy()
    lm = _landmarks(rgb)
    face = lm[:468, :2]
    cx = float(face[:, 0].mean())
    top = float(face[:, 1].min())
    width = float(np.ptp(face[:, 0]))
    chin = float(face[:, 1].max())
    rng = np.random.default_rng(7)
    hull = cv2.convexHull(face.astype(np.int32))
    face_mask = np.zeros(rgb.shape[:2], np.uint8)
    cv2.fillPoly(face_mask, [hull], 255)
    face_mask = cv2.erode(face_mask, np.ones((5, 5), np.uint8))
    layer = img.copy()
    for _ in range(2600):
        ang = rng.uniform(-np.pi, 0.0) if rng.random() < 0.55 else rng.uniform(0, np.pi)
        rad = rng.uniform(0.45, 0.95) * width
        x = cx + np.cos(ang) * rad * 1.05
        y = top + 0.35 * width + np.sin(ang) * rad * (0.9 if ang < 0 else 1.6)
        y = min(y, chin + 0.9 * width)
        r = int(rng.integers(4, 10))
        shade = rng.uniform(0.6, 1.2)
        colour = tuple(int(v * shade) for v in (70, 42, 22))
        a0 = int(rng.integers(0, 360))
        cv2.ellipse(layer, (int(x), int(y)), (r, r), 0, a0, a0 + 260, colour, 2, cv2.LINE_AA)
    keep = face_mask > 0
    layer[keep] = img[keep]
    return layer


def make_all() -> dict[str, np.ndarray]:
    a, h = astronaut(), hopper()
    return {
        "astronaut": a,
        "hopper": h,
        "astronaut_painting": painting(a),
        "hopper_lineart": lineart(h),
        "astronaut_turned": turned(a),
        "hopper_glasses": glasses(h),
        "astronaut_beard": beard(a),
        "hopper_curly": curly(h),
    }


def main() -> int:
    out = (
        Path(sys.argv[1])
        if len(sys.argv) > 1
        else Path(__file__).resolve().parent.parent / "tests/fixtures/portraits"
    )
    out.mkdir(parents=True, exist_ok=True)
    for name, img in make_all().items():
        cv2.imwrite(
            str(out / f"{name}.jpg"), cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 88]
        )
        print(name, img.shape, (out / f"{name}.jpg").stat().st_size)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
