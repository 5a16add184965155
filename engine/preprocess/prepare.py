"""Photo -> the 512x512 white-background input both engines use (spec §1, face_framing.md §2).

Divergences from the reference, on purpose (see docs/INSTANT.md):
- Matting is mediapipe selfie segmentation (rembg/u2net needs a download), run on the
  512 crop rather than the whole photo, and the crop is composited on white after the
  resize rather than before; a photo that has its own transparency uses that as the matte.
- The no-crop path keeps the aspect ratio (white padding) where FaceLift stretches to 512x512.
- The matte is 0 wherever the canvas lies beyond the photo's edge (a face cut by the frame):
  the segmenter tends to call that white padding "person", which gave the head a white cap.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from engine.api import CancelToken
from engine.errors import NoFaceFound
from engine.io.images import MIN_PHOTO_SIDE, composite_on_white, load_photo_image, load_photo_rgba
from engine.preprocess import mediapipe_graphs as mpg
from engine.preprocess.face import find_face
from engine.preprocess.framing import apply_crop, apply_fit, canvas_size, plan_crop, plan_fit
from engine.preprocess.object_framing import frame_object
from engine.settings import DEFAULT_TARGET_RATIO, FramingName


@dataclass
class Prepared:
    """What an engine gets, and what the UI may show about it.

    image: (512,512,3) uint8 RGB, background white.
    alpha: (512,512) float32 in [0,1] (the soft matte), or None when unknown.
    face_box: (x1,y1,x2,y2) of the framed face (the MTCNN-equivalent box) in image pixels,
        or None (no-crop / given images).
    landmarks: (478,3) float32 mesh landmarks in image pixels (z in x's pixel scale,
        smaller = nearer the camera), or None.
    score: face-detection confidence in [0,1], or None.
    notes: what was done, one short sentence each.
    photo_to_image: (sx, sy, tx, ty): a photo pixel p lands at (p.x*sx+tx, p.y*sy+ty) in
        ``image`` (None for given images).
    """

    image: np.ndarray
    alpha: np.ndarray | None = None
    face_box: tuple[float, float, float, float] | None = None
    landmarks: np.ndarray | None = None
    score: float | None = None
    notes: list[str] = field(default_factory=list)
    photo_to_image: tuple[float, float, float, float] | None = None


def _describe(image: str | os.PathLike[str] | np.ndarray) -> str:
    if isinstance(image, np.ndarray):
        return f"<image {image.shape[1]}x{image.shape[0]}>" if image.ndim >= 2 else "<image>"
    return str(image)


def composite_white(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """rgb (H,W,3) uint8 over white with alpha (H,W) float in [0,1] -> (H,W,3) uint8."""
    a = alpha.astype(np.float32)[:, :, None]
    out = rgb.astype(np.float32) * a + np.float32(255.0) * (1.0 - a)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def _footprint(paste: tuple[int, int], size: tuple[int, int]) -> np.ndarray:
    """(n,n) float32: 1 where the photo was pasted on the canvas (at ``paste``, ``size`` = (w,h)),
    0 on the white padding around it."""
    n = canvas_size()
    mask = np.zeros((n, n), np.float32)
    x, y = paste
    mask[max(0, y) : max(0, y + size[1]), max(0, x) : max(0, x + size[0])] = 1.0
    return mask


def _check(cancel: CancelToken | None) -> None:
    if cancel is not None:
        cancel.raise_if_cancelled()


def preprocess_photo(
    image: str | os.PathLike[str] | np.ndarray,
    auto_crop: bool = True,
    cancel: CancelToken | None = None,
    *,
    framing: FramingName | None = None,
    target_ratio: float = DEFAULT_TARGET_RATIO,
) -> Prepared:
    """Load a photo, find and frame the face like FaceLift, matte it, composite on white.

    framing: "face" (the default with auto_crop), "none" (auto_crop=False: the whole photo fitted
    into 512x512, aspect kept, white padding) or "object" (no face needed: the subject's mask
    centred with its box's longer side at target_ratio x 512; engine.preprocess.object_framing).
    Raises NoFaceFound (an InputError) "<file>: no face found — try without auto-crop" when auto-crop finds
    no face, and the loader's InputErrors for unusable files.
    """
    name = _describe(image)
    mode = framing if framing is not None else ("face" if auto_crop else "none")
    loaded = load_photo_image(image, min_side=MIN_PHOTO_SIDE)  # RGB, or RGBA if it has alpha
    if mode == "object":
        rgba = np.array(loaded.convert("RGBA"), dtype=np.uint8)
        framed = frame_object(rgba, target_ratio, name)
        x0, y0, x1, y1 = framed.box
        notes = [
            f"photo {rgba.shape[1]}x{rgba.shape[0]}",
            framed.matte,
            f"object framing: subject box {x1 - x0}x{y1 - y0} px centred, longer side scaled to "
            f"{target_ratio:g} x 512, composited on white (no face detection)",
        ]
        return Prepared(framed.image, framed.alpha, None, None, None, notes, framed.photo_to_image)
    # The photo stays a PIL image (no 12 MP round trip through an RGBA array: ~0.15 s).
    own_alpha = loaded.mode == "RGBA" and int(np.asarray(loaded.getchannel("A")).min()) < 255
    # An opaque photo is its own composite: skip a 12 MP alpha_composite (~0.1 s).
    if own_alpha:
        photo = composite_on_white(loaded)
    else:
        photo = loaded if loaded.mode == "RGB" else loaded.convert("RGB")
    notes = [f"photo {photo.width}x{photo.height}"]
    _check(cancel)

    face_box = landmarks = score = None
    if mode == "face":
        search = find_face(photo, cancel)
        if search.face is None:
            raise NoFaceFound(f"{name}: no face found — try without auto-crop")
        face = search.face
        plan = plan_crop(photo.width, photo.height, face)
        transform = (*plan.scale_xy, float(plan.shift[0]), float(plan.shift[1]))
        crop = apply_crop(photo, plan)
        left, top, right, bottom = plan.crop
        footprint = _footprint(plan.paste, (max(0, right - left), max(0, bottom - top)))
        crop_alpha = apply_crop(loaded.getchannel("A"), plan, fill=0) if own_alpha else None
        corners = plan.to_canvas(np.array(face.box, dtype=np.float64).reshape(2, 2))
        face_box = (float(corners[0, 0]), float(corners[0, 1]), float(corners[1, 0]), float(corners[1, 1]))
        if search.landmarks is not None:
            lm = search.landmarks.copy()
            lm[:, :2] = plan.to_canvas(lm[:, :2])
            lm[:, 2] *= plan.scale_xy[0]
            landmarks = lm.astype(np.float32)
        score = face.score
        if search.faces_seen > 1:
            notes.append(
                f"{search.faces_seen} faces found; framed the most confident one (score {face.score:.2f})"
            )
        else:
            notes.append(f"face found (score {face.score:.2f})")
        if search.tiled:
            notes.append("small face: found by scanning tiles of the photo")
        how = "face mesh" if face.source == "mesh" else "detection box (mesh failed)"
        notes.append(
            f"auto-crop: {how}, face size {face.size:.0f} px scaled by {plan.ratio:.3f} to FaceLift's framing"
        )
    else:
        fit = plan_fit(photo.width, photo.height)
        transform = (*fit.scale_xy, float(fit.paste[0]), float(fit.paste[1]))
        crop = apply_fit(photo, fit)
        footprint = _footprint(fit.paste, fit.scaled)
        crop_alpha = apply_fit(loaded.getchannel("A"), fit, fill=0) if own_alpha else None
        notes.append("auto-crop off: whole photo fitted into 512x512, aspect ratio kept, white padding")
    _check(cancel)

    crop_rgb = np.asarray(crop, dtype=np.uint8)
    if crop_alpha is not None:
        alpha = np.asarray(crop_alpha, dtype=np.float32) / np.float32(255.0)
        notes.append("background: the photo's own transparency")
    else:
        # Where the canvas lies beyond the photo's edge there is nothing: the segmenter may call
        # that white "person" (a face cut by the frame gets a white cap), so it is cleared.
        alpha = mpg.segment_person(crop_rgb) * footprint
        notes.append("background removed (mediapipe selfie segmentation), composited on white")
    return Prepared(composite_white(crop_rgb, alpha), alpha, face_box, landmarks, score, notes, transform)


def prepare_given(image: str | os.PathLike[str] | np.ndarray) -> Prepared:
    """Take an already prepared crop as is (``--no-preprocess``): resized to 512x512 when it
    is not that size; alpha kept when the image has one, else None."""
    rgba = load_photo_rgba(image, min_side=MIN_PHOTO_SIDE)
    n = canvas_size()
    im = Image.fromarray(rgba, "RGBA")
    notes = ["taken as given (no preprocessing)"]
    if im.size != (n, n):
        notes.append(f"resized from {im.width}x{im.height} to {n}x{n}")
        im = im.resize((n, n), Image.Resampling.BICUBIC)
    arr = np.asarray(im)
    has_alpha = bool((arr[:, :, 3] < 255).any())
    alpha = arr[:, :, 3].astype(np.float32) / np.float32(255.0) if has_alpha else None
    rgb = np.asarray(composite_on_white(im), dtype=np.uint8)
    return Prepared(rgb, alpha, None, None, None, notes)
