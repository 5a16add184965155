"""Finding the face to frame (face_framing.md §2 steps 2-4).

1. face_detection models 0 and 1 on the whole photo; the highest score wins (not the largest
   box). If neither finds a face: model 0 on overlapping square tiles of 1/2, then 1/4, of the
   short side with a 50 % step (both detectors miss faces narrower than ~1/10 of the photo).
2. face_mesh on a square 3x the detection box, resized to 512 px (white outside the photo);
   landmarks mapped back to photo pixels -> the primary mapping.
3. No mesh: the detection-box fallback, accepted only at score >= 0.8.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from engine.api import CancelToken
from engine.preprocess import mediapipe_graphs as mpg
from engine.preprocess.framing import FaceEstimate, face_from_detection, face_from_mesh, fallback_min_score

DETECT_LONG_SIDE = 2048
"""Detection runs on a copy no longer than this, reduced by an integer factor (the detectors
look at 128/192 px anyway)."""

MESH_SIZE = 512


@dataclass(frozen=True)
class FaceSearch:
    """What the search found. face: the chosen face (None = no acceptable face);
    landmarks: (478,3) photo pixels when the mesh ran; faces_seen: distinct detections;
    tiled: whether tiles were needed."""

    face: FaceEstimate | None
    landmarks: np.ndarray | None
    detection: mpg.Detection | None
    faces_seen: int
    tiled: bool


def _iou(a: mpg.Detection, b: mpg.Detection) -> float:
    ax, ay, aw, ah = a.box
    bx, by, bw, bh = b.box
    ix = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = ix * iy
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0


def _distinct(dets: list[mpg.Detection]) -> list[mpg.Detection]:
    """Best-first detections with overlapping duplicates (IoU > 0.3) removed."""
    keep: list[mpg.Detection] = []
    for d in sorted(dets, key=lambda d: -d.score):
        if all(_iou(d, k) <= 0.3 for k in keep):
            keep.append(d)
    return keep


def _tile_starts(length: int, tile: int, step: int) -> list[int]:
    starts = list(range(0, max(1, length - tile + 1), step))
    if starts[-1] + tile < length:
        starts.append(length - tile)
    return starts


def _tiled_detections(work: np.ndarray, cancel: CancelToken | None) -> list[mpg.Detection]:
    h, w = work.shape[:2]
    short = min(h, w)
    for fraction in (2, 4):
        tile = max(32, short // fraction)
        step = max(1, tile // 2)
        found: list[mpg.Detection] = []
        for y0 in _tile_starts(h, tile, step):
            if cancel is not None:
                cancel.raise_if_cancelled()
            for x0 in _tile_starts(w, tile, step):
                patch = work[y0 : y0 + tile, x0 : x0 + tile]
                found += [d.shifted(x0, y0) for d in mpg.detect_faces(patch, model=0)]
        if found:
            return found
    return []


def _mesh_around(photo: Image.Image, det: mpg.Detection) -> np.ndarray | None:
    """face_mesh on a white-filled square 3x the detection box; landmarks in photo pixels."""
    x, y, w, h = det.box
    side = 3.0 * max(w, h)
    x0, y0 = x + w / 2 - side / 2, y + h / 2 - side / 2
    # Resize only the part inside the photo, placed where it belongs on the white square.
    k = MESH_SIZE / side
    cl, ct = max(0.0, x0), max(0.0, y0)
    cr, cb = min(float(photo.width), x0 + side), min(float(photo.height), y0 + side)
    if cr <= cl or cb <= ct:
        return None
    dl, dt = round((cl - x0) * k), round((ct - y0) * k)
    dr, db = round((cr - x0) * k), round((cb - y0) * k)
    canvas = Image.new("RGB", (MESH_SIZE, MESH_SIZE), (255, 255, 255))
    if dr > dl and db > dt:
        region = photo.resize((dr - dl, db - dt), Image.Resampling.BILINEAR, box=(cl, ct, cr, cb))
        canvas.paste(region, (dl, dt))
    pts = mpg.face_mesh(np.asarray(canvas))
    if pts is None:
        return None
    # The pasted region spans exactly [cl, cr] x [ct, cb] over [dl, dr] x [dt, db].
    sx, sy = (cr - cl) / (dr - dl), (cb - ct) / (db - dt)
    out = pts.copy()
    out[:, 0] = cl + (pts[:, 0] - dl) * sx
    out[:, 1] = ct + (pts[:, 1] - dt) * sy
    out[:, 2] = pts[:, 2] * sx
    return out


def find_face(photo: Image.Image, cancel: CancelToken | None = None) -> FaceSearch:
    """Search an RGB photo for the face to frame (see the module docstring)."""
    # An integer-factor box reduction: a fifth of the cost of a bilinear resize of a 12 MP
    # photo (~0.08 s), and the detectors downsample it to 128/192 px anyway.
    factor = -(-max(photo.width, photo.height) // DETECT_LONG_SIDE)
    small = photo.reduce(factor) if factor > 1 else photo
    work = np.asarray(small)
    sx, sy = photo.width / small.width, photo.height / small.height

    found = mpg.detect_faces(work, model=0) + mpg.detect_faces(work, model=1)
    tiled = False
    if not found:
        if cancel is not None:
            cancel.raise_if_cancelled()
        found = _tiled_detections(work, cancel)
        tiled = True
    if not found:
        return FaceSearch(None, None, None, 0, tiled)
    distinct = _distinct(found)
    best = distinct[0]  # highest score, whatever its size
    bx, by, bw, bh = best.box
    best = mpg.Detection(
        (bx * sx, by * sy, bw * sx, bh * sy), best.score, best.keypoints * [sx, sy], best.model
    )

    if cancel is not None:
        cancel.raise_if_cancelled()
    landmarks = _mesh_around(photo, best)
    if landmarks is not None:
        face: FaceEstimate | None = face_from_mesh(landmarks[:, :2], best.score)
    elif best.score >= fallback_min_score():
        face = face_from_detection(best.box, best.score, best.model)
    else:
        face = None
    return FaceSearch(face, landmarks, best, len(distinct), tiled)
