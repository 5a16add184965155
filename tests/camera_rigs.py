"""Camera files for tests: orbit rigs written in FaceLift's opencv_cameras.json schema."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from engine.cameras import CameraSet
from engine.geometry import orbit_c2w, square_intrinsics


def orbit_rig(azimuths: Sequence[float], elevation: float, radius: float, size: int = 512) -> CameraSet:
    """Cameras on an orbit around the origin (+Z up) at these azimuths, in this order."""
    c2w = np.stack([orbit_c2w(a, elevation, radius) for a in azimuths]).astype(np.float32)
    k = np.tile(square_intrinsics(size), (len(azimuths), 1))
    return CameraSet(c2w, k, size, size)


def write_cameras_json(path: Path, cams: CameraSet) -> Path:
    """``cams`` as a FaceLift-schema json ({"frames": [{w,h,fx,fy,cx,cy,w2c}]}), frames in order."""
    frames = []
    for c2w, (fx, fy, cx, cy) in zip(cams.c2w, cams.fxfycxcy):
        w2c = np.linalg.inv(c2w.astype(np.float64))
        frames.append(
            {"w": cams.width, "h": cams.height, "fx": float(fx), "fy": float(fy), "cx": float(cx),
             "cy": float(cy), "w2c": w2c.tolist()}
        )  # fmt: skip
    path.write_text(json.dumps({"frames": frames}), encoding="utf-8")
    return path
