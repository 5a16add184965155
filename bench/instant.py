"""Time the instant engine end to end on a 12 MP photo, stage by stage, mesh included.

The photo is skimage's astronaut upscaled (x4.5, bicubic) and padded white to 4000x3000,
saved as a JPEG. Once-per-process costs (mediapipe graphs, the first run's lazy imports,
measured on the 512 px astronaut) are reported apart. Run: `nice -n 10 .venv/bin/python
bench/instant.py`. Prints a table of wall and CPU seconds per stage, the run's Gaussians and the
fitted mesh's triangles, and the machine's load average (wall times are only comparable at a
similar load).
"""

from __future__ import annotations

import itertools
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.api import ProgressEvent
from engine.instant import InstantReconstructor
from engine.io.images import load_photo
from engine.preprocess import mediapipe_graphs as mpg
from engine.preprocess import preprocess_photo


def make_photo(folder: Path) -> Path:
    face = Image.fromarray(data.astronaut()).resize((2304, 2304), Image.Resampling.BICUBIC)
    canvas = Image.new("RGB", (4000, 3000), (255, 255, 255))
    canvas.paste(face, (900, 400))
    path = folder / "astronaut_12mp.jpg"
    canvas.save(path, quality=90)
    return path


class Clock:
    """Wall and CPU (all threads) seconds since the last ``lap``."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def lap(self) -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        out = (wall - self.wall, cpu - self.cpu)
        self.wall, self.cpu = wall, cpu
        return out


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        path = make_photo(Path(tmp))
        # Graph creation is a once-per-process cost; report it separately.
        clock = Clock()
        warm = np.full((64, 64, 3), 255, np.uint8)
        mpg.detect_faces(warm, 0), mpg.detect_faces(warm, 1), mpg.face_mesh(warm), mpg.segment_person(warm)
        rows = [("mediapipe graphs (once per process)", *clock.lap())]
        InstantReconstructor().reconstruct(preprocess_photo(data.astronaut())).mesh.to_trimesh()
        rows.append(("first run's imports + 512 px warm-up (once)", *clock.lap()))

        start = Clock()
        clock = Clock()
        photo = load_photo(path)
        rows.append((f"load JPEG {photo.shape[1]}x{photo.shape[0]}", *clock.lap()))
        prepared = preprocess_photo(photo)
        rows.append(("preprocess (detect, mesh, crop, matte)", *clock.lap()))

        marks: list[tuple[str, float, float]] = []

        def on_progress(event: ProgressEvent) -> None:
            marks.append((event.message, time.perf_counter(), time.process_time()))

        instant = Clock()
        head = InstantReconstructor().reconstruct(prepared, on_progress=on_progress)
        mesh = head.mesh.to_trimesh()  # what the engine hands over with the result
        end_wall, end_cpu = time.perf_counter(), time.process_time()
        gaussians = head.gaussians
        for (name, w0, c0), (_, w1, c1) in itertools.pairwise(marks):
            rows.append((f"instant: {name}", w1 - w0, c1 - c0))
        rows.append(("instant: mesh handed over (trimesh)", end_wall - marks[-1][1], end_cpu - marks[-1][2]))
        rows.append(("instant total", end_wall - instant.wall, end_cpu - instant.cpu))
        rows.append(
            ("END TO END (load + preprocess + instant + mesh)", end_wall - start.wall, end_cpu - start.cpu)
        )

    width = max(len(r[0]) for r in rows)
    # CPU seconds are those of all this process's threads: what the wall time is on an idle
    # machine when the work is single-threaded; under load the wall time grows, CPU time less.
    print(f"{'stage':<{width}}  {'wall s':>7}  {'CPU s':>7}")
    for name, wall, cpu in rows:
        print(f"{name:<{width}}  {wall:7.3f}  {cpu:7.3f}")
    print(
        f"Gaussians: {len(gaussians):,}; mesh: {len(mesh.faces):,} triangles, watertight {mesh.is_watertight}"
    )
    print(f"notes: {'; '.join(prepared.notes)}")
    print(f"load average (1, 5, 15 min): {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
