"""Auto-crop framing: the face lands where FaceLift's crop puts it, over many photo variants.

The reference places the MTCNN face (centre c, size s) at (251.83, 280.01) with size 194.27.
The astronaut's MTCNN box is not shipped, so its base face (c0, s0) is our primary mapping on
the original photo (documented in docs/INSTANT.md; checked below against the independent
detection-box mapping). Every variant is an exact transform of the original, so the expected
face there is the transformed base face; we compare where OUR crop puts that face with where
the reference's crop arithmetic (given that face) puts it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from PIL import Image
from skimage import data

from engine.api import Cancelled, CancelToken, InputError
from engine.preprocess import mediapipe_graphs as mpg
from engine.preprocess import prepare_given, preprocess_photo
from engine.preprocess.face import find_face
from engine.preprocess.framing import (
    FaceEstimate,
    apply_crop,
    face_from_detection,
    plan_crop,
    target_face,
)

ASTRO = data.astronaut()  # 512x512 RGB


@dataclass(frozen=True)
class Variant:
    """image and the exact affine map of photo coordinates: x' = a*x + bx (a<0 mirrors)."""

    name: str
    image: np.ndarray
    ax: float
    bx: float
    ay: float
    by: float


def _resize(img: np.ndarray, f: float) -> np.ndarray:
    h, w = img.shape[:2]
    return np.asarray(Image.fromarray(img).resize((round(w * f), round(h * f)), Image.Resampling.LANCZOS))


def _paste(img: np.ndarray, size: tuple[int, int], at: tuple[int, int]) -> np.ndarray:
    canvas = np.full((size[1], size[0], 3), 255, np.uint8)
    canvas[at[1] : at[1] + img.shape[0], at[0] : at[0] + img.shape[1]] = img
    return canvas


def _variants() -> list[Variant]:
    w = ASTRO.shape[1]
    mirrored = ASTRO[:, ::-1].copy()
    big = _resize(ASTRO, 1.5)
    return [
        Variant("original", ASTRO, 1, 0, 1, 0),
        Variant("half", _resize(ASTRO, 0.5), 0.5, 0, 0.5, 0),
        Variant("double", _resize(ASTRO, 2.0), 2, 0, 2, 0),
        Variant("mirror+0.75", _resize(mirrored, 0.75), -0.75, 0.75 * w, 0.75, 0),
        Variant("mirror", mirrored, -1, w, 1, 0),
        Variant("white-pad", _paste(ASTRO, (900, 700), (300, 150)), 1, 300, 1, 150),
        Variant("edge-pad", np.pad(ASTRO, ((40, 260), (330, 60), (0, 0)), mode="edge"), 1, 330, 1, 40),
        Variant("shift", _paste(ASTRO, (1200, 800), (650, 20)), 1, 650, 1, 20),
        Variant("1.5x+pad", _paste(big, (1600, 1100), (0, 300)), 1.5, 0, 1.5, 300),
        Variant("small-in-2048", _paste(ASTRO, (2048, 2048), (1300, 900)), 1, 1300, 1, 900),
    ]


@pytest.fixture(scope="module")
def base_face() -> FaceEstimate:
    search = find_face(Image.fromarray(ASTRO))
    assert search.face is not None and search.face.source == "mesh"
    return search.face


def test_base_face_agrees_with_the_independent_detection_mapping(base_face: FaceEstimate) -> None:
    # Two different mediapipe models and calibrations must agree within the note's held-out
    # error (centre 0.077 s, size 13.7 %): a broken mesh mapping would not.
    best = mpg.detect_faces(ASTRO, model=0)[0]
    fb = face_from_detection(best.box, best.score, 0)
    assert np.hypot(fb.cx - base_face.cx, fb.cy - base_face.cy) / base_face.size < 0.08
    assert abs(fb.size / base_face.size - 1) < 0.14
    # The documented base face (docs/INSTANT.md): centre (224.3, 118.0), size 106.1 px.
    assert base_face.cx == pytest.approx(224.3, abs=2) and base_face.cy == pytest.approx(118.0, abs=2)
    assert base_face.size == pytest.approx(106.1, rel=0.02)


def test_framing_over_variants_matches_the_reference_placement(base_face: FaceEstimate) -> None:
    centre_err, size_err = [], []
    for v in _variants():
        prepared = preprocess_photo(v.image)
        assert prepared.image.shape == (512, 512, 3) and prepared.photo_to_image is not None
        # The expected MTCNN face in this variant: the exact transform of the base face.
        cx, cy = v.ax * base_face.cx + v.bx, v.ay * base_face.cy + v.by
        size = abs(v.ax) * base_face.size
        h, w = v.image.shape[:2]
        ref = plan_crop(w, h, FaceEstimate(cx, cy, size, "expected", 1.0))
        ref_pos = ref.to_canvas(np.array([[cx, cy]]))[0]
        sx, sy, tx, ty = prepared.photo_to_image
        ours = np.array([cx * sx + tx, cy * sy + ty])
        centre_err.append(float(np.hypot(*(ours - ref_pos))))
        size_err.append(abs(sx / ref.scale_xy[0] - 1.0))
        # The reference's crop of the expected face lands at FaceLift's target (sanity).
        assert np.hypot(ref_pos[0] - target_face()[0], ref_pos[1] - target_face()[1]) < 3.0
    report = ", ".join(f"{v.name}: {c:.1f}px {s:.1%}" for v, c, s in zip(_variants(), centre_err, size_err))
    assert np.mean(centre_err) <= 7.0, report
    assert np.mean(size_err) <= 0.04, report
    assert max(centre_err) <= 18.0, report
    assert max(size_err) <= 0.12, report


def test_small_face_is_found_by_tiles() -> None:
    canvas = _paste(ASTRO, (2048, 2048), (1300, 900))  # face ~95 px wide: under 1/20 of the width
    assert not mpg.detect_faces(canvas, 0) and not mpg.detect_faces(canvas, 1)  # why tiles exist
    prepared = preprocess_photo(canvas)
    assert any("tiles" in n for n in prepared.notes)
    assert prepared.face_box is not None


def test_highest_score_wins_over_largest_box(monkeypatch: pytest.MonkeyPatch) -> None:
    real = mpg.detect_faces

    def with_decoy(image: np.ndarray, model: int = 0, min_score: float = 0.5) -> list[mpg.Detection]:
        found = real(image, model, min_score)
        h = image.shape[0]
        # A big, less confident false positive over the flag (top left), as seen on a padded photo.
        decoy = mpg.Detection((0.0, 0.0, 0.45 * h, 0.45 * h), 0.6, np.zeros((6, 2)), model)
        return [*found, decoy]

    monkeypatch.setattr(mpg, "detect_faces", with_decoy)
    prepared = preprocess_photo(ASTRO)
    assert any("2 faces found" in n and "most confident" in n for n in prepared.notes), prepared.notes
    assert prepared.score is not None and prepared.score > 0.85
    x1, y1, x2, y2 = prepared.face_box or (0, 0, 0, 0)
    tx, ty, ts = target_face()
    assert abs((x1 + x2) / 2 - tx) < 3 and abs((y1 + y2) / 2 - ty) < 3
    assert (x2 - x1) == pytest.approx(ts, rel=0.03)


def test_no_face_gives_one_line_error() -> None:
    y, x = np.mgrid[0:300, 0:400]
    blank = np.stack([x % 256, y % 256, (x + y) % 256], -1).astype(np.uint8)
    with pytest.raises(InputError, match="no face found — try without auto-crop") as err:
        preprocess_photo(blank)
    assert "\n" not in str(err.value) and "<image 400x300>" in str(err.value)


def test_crop_region_resize_equals_whole_photo_resize() -> None:
    # Our region-only resize must give the pixels of the reference's whole-photo resize.
    photo = Image.fromarray(_paste(ASTRO, (900, 700), (300, 150)))
    for face in (FaceEstimate(524.3, 268.0, 106.1, "t", 1.0), FaceEstimate(100.0, 600.0, 333.0, "t", 1.0)):
        plan = plan_crop(photo.width, photo.height, face)
        ours = np.asarray(apply_crop(photo, plan)).astype(int)
        whole = photo.resize(plan.scaled)  # the reference: PIL default filter (bicubic)
        ref = Image.new("RGB", (512, 512), (255, 255, 255))
        ref.paste(whole.crop(plan.crop), plan.paste)
        diff = np.abs(ours - np.asarray(ref).astype(int))
        assert diff.max() <= 1, diff.max()


def test_alpha_and_white_background() -> None:
    prepared = preprocess_photo(ASTRO)
    a = prepared.alpha
    assert a is not None and a.shape == (512, 512) and a.dtype == np.float32
    assert a.min() >= 0.0 and a.max() <= 1.0
    assert a[280, 252] > 0.9  # the face centre is foreground
    assert a[5, 5] < 0.1 and (prepared.image[5, 5] >= 245).all()  # background whitened
    soft = ((a > 0.05) & (a < 0.95)).mean()
    assert 0.0 < soft < 0.2  # a soft edge, not a hard cut
    assert prepared.landmarks is not None and prepared.landmarks.shape == (478, 3)


def test_photo_transparency_is_used_as_matte() -> None:
    rgba = np.dstack([ASTRO, np.full(ASTRO.shape[:2], 255, np.uint8)])
    rgba[:, :100, 3] = 0  # a cut-out: the left strip is transparent
    prepared = preprocess_photo(rgba)
    assert any("own transparency" in n for n in prepared.notes)
    assert prepared.alpha is not None
    sx, _, tx, _ = prepared.photo_to_image or (0, 0, 0, 0)
    edge = round(100 * sx + tx)
    if 4 <= edge < 512:
        assert prepared.alpha[:, : edge - 3].max() == 0.0


def test_no_crop_keeps_aspect_ratio() -> None:
    wide = np.concatenate([ASTRO, ASTRO], axis=1)  # 1024x512
    prepared = preprocess_photo(wide, auto_crop=False)
    assert prepared.image.shape == (512, 512, 3)
    assert prepared.photo_to_image == (0.5, 0.5, 0.0, 128.0)
    assert (prepared.image[:120] == 255).all() and (prepared.image[-120:] == 255).all()
    assert any("aspect ratio kept" in n for n in prepared.notes)


def test_prepare_given_resizes_and_keeps_alpha() -> None:
    rgba = np.zeros((256, 256, 4), np.uint8)
    rgba[64:192, 64:192] = [200, 50, 50, 255]
    prepared = prepare_given(rgba)
    assert prepared.image.shape == (512, 512, 3) and prepared.alpha is not None
    assert (prepared.image[10, 10] == 255).all() and prepared.alpha[256, 256] == 1.0
    assert prepared.face_box is None and any("resized" in n for n in prepared.notes)
    plain = prepare_given(ASTRO)
    assert plain.alpha is None and np.array_equal(plain.image, ASTRO)


def test_cancel_before_and_between_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        preprocess_photo(ASTRO, cancel=token)

    token = CancelToken()
    from engine.preprocess import prepare

    real = prepare.find_face

    def find_then_cancel(photo: Image.Image, cancel: CancelToken | None = None) -> object:
        found = real(photo, cancel)
        token.cancel()  # the user presses Cancel while the face search runs
        return found

    monkeypatch.setattr(prepare, "find_face", find_then_cancel)
    with pytest.raises(Cancelled):
        preprocess_photo(ASTRO, cancel=token)
