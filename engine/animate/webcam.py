"""A webcam as a driver: a clip recorded from the camera (OpenCV's capture), then used like any
driver video (engine.animate.driver), so tracking, the side-by-side view and the window's
playback treat it the same way.

A driver argument names a camera as ``webcam`` (camera 0), ``webcam:N`` or, on Linux,
``/dev/videoN``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from engine.api import CancelToken, ProgressCallback, ProgressEvent, no_progress
from engine.errors import InputError

WEBCAM_SECONDS = 10.0
"""How long a recording lasts unless asked otherwise, seconds."""
DEFAULT_FPS = 30.0  # what a camera that does not report its rate is taken to run at
MAX_FPS = 60.0
_NAMED = re.compile(r"^(?:webcam(?::(\d+))?|/dev/video(\d+))$")


class Camera(Protocol):
    """What is used of a cv2.VideoCapture."""

    def read(self) -> tuple[bool, Any]: ...
    def get(self, prop: int) -> float: ...
    def release(self) -> None: ...


def webcam_index(source: str | Path) -> int | None:
    """The camera a driver argument names ('webcam' -> 0, 'webcam:N' / '/dev/videoN' -> N), or
    None when it names a file."""
    match = _NAMED.match(str(source).strip())
    if match is None:
        return None
    return int(match.group(1) or match.group(2) or 0)


def camera_present(index: int = 0) -> bool:
    """Whether camera ``index`` may exist: on Linux its /dev/videoN node; elsewhere always True
    (only opening it tells)."""
    return not sys.platform.startswith("linux") or Path(f"/dev/video{index}").exists()


def open_camera(index: int) -> Camera:
    """cv2.VideoCapture of camera ``index``; InputError (one line) when there is none."""
    if not camera_present(index):
        raise InputError(f"webcam {index}: no camera found (/dev/video{index} does not exist)")
    import cv2

    cv2.setLogLevel(0)  # silent: its own lines about a missing camera say no more than ours
    capture = cv2.VideoCapture(index)
    if not capture.isOpened():
        capture.release()
        raise InputError(f"webcam {index}: cannot open the camera (in use, or no permission)")
    return capture  # type: ignore[no-any-return]


def record_webcam(
    index: int,
    out: Path | str,
    seconds: float = WEBCAM_SECONDS,
    on_progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    *,
    opener: Callable[[int], Camera] | None = None,
    overwrite: bool = False,
) -> Path:
    """Record ``seconds`` of camera ``index`` into the video ``out`` (.mp4, at the camera's frame
    rate); returns its path. Frames are counted, not timed: a camera that delivers them slower
    than it says makes a longer recording, never a shorter clip. Written under a temporary name:
    a cancel (engine.api.Cancelled) or an error leaves no file. InputError when the camera is
    missing, gives no picture or ``seconds`` is not positive. ``opener``: how camera ``index`` is
    opened (default :func:`open_camera`)."""
    import cv2

    from engine.io.video import VideoEncoder

    if not (np.isfinite(seconds) and seconds > 0):
        raise InputError(f"webcam {index}: the recording length must be above 0 s, got {seconds:g}")
    camera = (opener or open_camera)(index)
    try:
        fps = float(camera.get(cv2.CAP_PROP_FPS) or 0.0)
        if not (np.isfinite(fps) and 1.0 <= fps <= MAX_FPS):
            fps = DEFAULT_FPS
        total = max(1, round(seconds * fps))
        with VideoEncoder(out, fps, overwrite=overwrite) as video:
            for i in range(total):
                if cancel is not None:
                    cancel.raise_if_cancelled()
                ok, bgr = camera.read()
                if not ok or bgr is None:
                    if i == 0:
                        raise InputError(f"webcam {index}: the camera gives no picture")
                    break  # the camera stopped: keep what was recorded
                frame = np.ascontiguousarray(bgr[:, :, ::-1])
                video.push(frame[: frame.shape[0] // 2 * 2, : frame.shape[1] // 2 * 2])  # H.264: even
                on_progress(ProgressEvent("record", i + 1, total, f"recording webcam frame {i + 1}"))
        return Path(out)
    finally:
        camera.release()
