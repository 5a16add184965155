"""Time animation: fitting the rig, binding, per-frame deformation and per-frame rendering, for a
head of 200 k and one of 1.5 M Gaussians.

The head is the instant engine's astronaut (~270 k Gaussians): 200 k of them picked at random,
and for 1.5 M every Gaussian repeated with a small jitter (the same face, denser). The motion
is a real one: the astronaut's face mesh turned by 20 deg yaw with the lower lip and jaw moved
down (engine.animate.motion.Retargeter on landmark sets). Rendering: engine.render's torch
rasteriser on the CPU at 512 px, front camera. Run: `nice -n 10 .venv/bin/python
bench/animate.py`; prints a table (median of the timed repeats).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np
from table import Column, print_table  # bench/table.py

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.animate.deform import deform
from engine.animate.driver import track
from engine.animate.head_fit import fit_head_landmarks
from engine.animate.landmarks import STABLE
from engine.animate.motion import Retargeter
from engine.animate.rig import bind
from engine.animate.similarity import rotation_matrix
from engine.api import ReconstructionRequest
from engine.cameras import facelift_cameras
from engine.engines import InstantEngine
from engine.gaussians import Gaussians
from engine.render import prepare, render

PORTRAIT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "portraits" / "astronaut.jpg"
REPEATS = 3


def sized(g: Gaussians, n: int, rng: np.random.Generator) -> Gaussians:
    """n Gaussians from g: a random subset, or g repeated with a jitter of a tenth of each one's size."""
    if n <= len(g):
        return g.subset(np.sort(rng.choice(len(g), n, replace=False)))
    idx = np.arange(n) % len(g)
    jitter = rng.normal(0.0, 0.1, (n, 3)) * g.scales[idx]
    return g.subset(idx).replace(xyz=g.xyz[idx] + jitter)


def timed(fn, repeats: int = REPEATS) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main() -> int:
    result = InstantEngine().run(ReconstructionRequest(PORTRAIT))
    image = result.input_image
    assert image is not None
    t_fit, landmarks = timed(lambda: fit_head_landmarks(image, result.gaussians), 1)
    neutral = track(image)
    assert neutral is not None
    centre = neutral[list(STABLE)].mean(axis=0)
    driven = (neutral - centre) @ rotation_matrix(np.array([0.0, np.radians(20.0), 0.0])).T + centre
    driven[neutral[:, 1] > neutral[14, 1] - 1.0, 1] += 12.0  # jaw and lower lip down 12 px
    cams = facelift_cameras(512)
    rng = np.random.default_rng(0)
    rows = []
    for n in (200_000, 1_500_000):
        g = sized(result.gaussians, n, rng)
        t_bind, rig = timed(lambda g=g: bind(g, landmarks), 1)
        motion = Retargeter(rig, neutral, 25.0, smooth=False)(driven)
        t_deform, moved = timed(lambda rig=rig, m=motion: deform(rig, m.offsets, m.pose))
        t_prep, prepared = timed(lambda moved=moved: prepare(moved, "torch-cpu")[0])
        t_render, _ = timed(
            lambda p=prepared: render(p, cams.c2w[0], cams.fxfycxcy[0], 512, 512, backend="torch-cpu")
        )
        rows.append((n, t_bind, t_deform, t_prep, t_render, len(rig.bound)))
    print(f"fit the 478 landmarks to the head (mediapipe + one 512 px depth render): {t_fit:.3f} s")
    columns = [
        Column("Gaussians", 10, ","),
        Column("bind (once)", 12, ".3f", "s"),
        Column("deform/frame", 13, ".3f", "s"),
        Column("upload/frame", 13, ".3f", "s"),
        Column("render 512/frame", 17, ".3f", "s"),
        Column("face-bound", 11, ","),
    ]
    print_table(columns, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
