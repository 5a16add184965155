"""mediapipe 0.10.21 graphs (``mp.solutions``, offline: the models ship in the wheel).

Each graph is created once per process and used under its own lock (a mediapipe graph is
not safe to call from two threads at once). All functions take RGB uint8 (H,W,3) arrays.

mediapipe's C++ side writes warnings (TFLite delegates, "feedback manager", NORM_RECT) straight
to file descriptor 2 -- absl logs there before ``absl::InitializeLog``, which GLOG_minloglevel
does not reach -- so every CLI run printed a screenful of them around its one-line result.
Graph creation and ``process`` calls run with fd 2 pointed at /dev/null; set
``FACELIFT_NATIVE_LOGS=1`` to see them. (Other threads' stderr writes during those calls, tens of
milliseconds each, are dropped too; the window's log panel is not affected.)
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

os.environ.setdefault("GLOG_minloglevel", "2")  # keep mediapipe's C++ INFO lines off stderr

_graphs: dict[str, tuple[Any, threading.Lock]] = {}
_graphs_lock = threading.Lock()
_stderr_lock = threading.Lock()  # always taken last: fd 2 is shared by the whole process


@contextlib.contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Point file descriptor 2 at /dev/null while mediapipe's native code runs (see above)."""
    if os.environ.get("FACELIFT_NATIVE_LOGS") == "1":
        yield
        return
    with _stderr_lock:
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError, AttributeError):  # no stderr at all (a windowed app)
            yield
            return
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 2)
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            os.close(devnull)


def _graph(key: str, make: Callable[[], Any]) -> tuple[Any, threading.Lock]:
    with _graphs_lock:
        if key not in _graphs:
            with _native_stderr_silenced():
                _graphs[key] = (make(), threading.Lock())
        return _graphs[key]


def _process(key: str, make: Callable[[], Any], image: np.ndarray) -> Any:
    """Run the graph ``key`` (created by ``make`` on first use) on an RGB uint8 image."""
    graph, lock = _graph(key, make)
    with lock, _native_stderr_silenced():
        return graph.process(np.ascontiguousarray(image))


def _solutions() -> Any:
    import mediapipe as mp  # heavy: imported only when a graph is first needed

    return mp.solutions


@dataclass(frozen=True)
class Detection:
    """One face_detection result in the pixels of the array it ran on.

    box: (xmin, ymin, w, h); keypoints: (6,2) (right eye, left eye, nose, mouth, right ear,
    left ear); model: 0 (short range) or 1 (full range).
    """

    box: tuple[float, float, float, float]
    score: float
    keypoints: np.ndarray
    model: int

    def shifted(self, dx: float, dy: float, scale: float = 1.0) -> Detection:
        """The same detection in another frame: p -> p*scale + (dx, dy)."""
        x, y, w, h = self.box
        kp = self.keypoints * scale + np.array([dx, dy])
        return Detection((x * scale + dx, y * scale + dy, w * scale, h * scale), self.score, kp, self.model)


def detect_faces(image: np.ndarray, model: int = 0, min_score: float = 0.5) -> list[Detection]:
    """face_detection(model_selection=model) on an RGB uint8 (H,W,3) image, best first."""
    result = _process(
        f"detect{model}",
        lambda: _solutions().face_detection.FaceDetection(
            model_selection=model, min_detection_confidence=min(min_score, 0.5)
        ),
        image,
    )
    h, w = image.shape[:2]
    out = []
    for det in result.detections or []:
        score = float(det.score[0])
        if score < min_score:
            continue
        b = det.location_data.relative_bounding_box
        kp = np.array([[p.x * w, p.y * h] for p in det.location_data.relative_keypoints], dtype=np.float64)
        out.append(Detection((b.xmin * w, b.ymin * h, b.width * w, b.height * h), score, kp, model))
    out.sort(key=lambda d: -d.score)
    return out


def face_mesh(image: np.ndarray) -> np.ndarray | None:
    """478 refined landmarks of the most prominent face, (478,3) float64 in pixels of the
    image (x, y; z in the same pixel scale as x, smaller = nearer), or None when no face."""
    result = _process(
        "mesh",
        lambda: _solutions().face_mesh.FaceMesh(
            static_image_mode=True, max_num_faces=1, refine_landmarks=True, min_detection_confidence=0.5
        ),
        image,
    )
    h, w = image.shape[:2]
    if not result.multi_face_landmarks:
        return None
    lm = result.multi_face_landmarks[0].landmark
    pts = np.array([[p.x, p.y, p.z] for p in lm], dtype=np.float64)
    return pts * np.array([w, h, w])


def segment_person(image: np.ndarray) -> np.ndarray:
    """Selfie segmentation (general model) soft matte, (H,W) float32 in [0,1]."""
    result = _process(
        "selfie", lambda: _solutions().selfie_segmentation.SelfieSegmentation(model_selection=0), image
    )
    mask = np.asarray(result.segmentation_mask, dtype=np.float32)
    return np.clip(mask, 0.0, 1.0)


def mesh_triangles() -> np.ndarray:
    """mediapipe's FACEMESH_TESSELATION as (T,3) int32 triangles over landmarks 0..467."""
    graph, _ = _graph("tess", lambda: _triangles_from_edges(_solutions().face_mesh.FACEMESH_TESSELATION))
    tris: np.ndarray = graph
    return tris


def _triangles_from_edges(edges: Any) -> np.ndarray:
    """The tessellation is published as an edge set; its triangles are its 3-cliques."""
    adj: dict[int, set[int]] = {}
    for a, b in edges:
        adj.setdefault(a, set()).add(b)
        adj.setdefault(b, set()).add(a)
    tris = set()
    for a, b in edges:
        for c in adj[a] & adj[b]:
            tris.add(tuple(sorted((a, b, c))))
    return np.array(sorted(tris), dtype=np.int32)
