"""Time the instant engine end to end on a 12 MP photo, stage by stage, mesh included.

The photo is skimage's astronaut upscaled (x4.5, bicubic) and padded white to 4000x3000,
saved as a JPEG. Once-per-process costs (mediapipe graphs, the first run's lazy imports,
measured on the 512 px astronaut) are reported apart. Run: `nice -n 10 .venv/bin/python
bench/instant.py`. Prints a table (wall seconds) and the end-to-end CPU time; the run's Gaussians and the fitted mesh's triangles below it.
"""

from __future__ import annotations

import itertools
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


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        path = make_photo(Path(tmp))
        # Graph creation is a once-per-process cost; report it separately.
        t = time.perf_counter()
        warm = np.full((64, 64, 3), 255, np.uint8)
        mpg.detect_faces(warm, 0), mpg.detect_faces(warm, 1), mpg.face_mesh(warm), mpg.segment_person(warm)
        rows = [("mediapipe graphs (once per process)", time.perf_counter() - t)]
        t = time.perf_counter()
        InstantReconstructor().run_head(preprocess_photo(data.astronaut())).mesh.to_trimesh()
        rows.append(("first run's imports + 512 px warm-up (once)", time.perf_counter() - t))

        t0 = time.perf_counter()
        c0 = time.process_time()
        t = t0
        photo = load_photo(path)
        rows.append((f"load JPEG {photo.shape[1]}x{photo.shape[0]}", time.perf_counter() - t))
        t = time.perf_counter()
        prepared = preprocess_photo(photo)
        rows.append(("preprocess (detect, mesh, crop, matte)", time.perf_counter() - t))

        marks: list[tuple[str, float]] = []

        def on_progress(event: ProgressEvent) -> None:
            marks.append((event.message, time.perf_counter()))

        t = time.perf_counter()
        head = InstantReconstructor().run_head(prepared, on_progress=on_progress)
        mesh = head.mesh.to_trimesh()  # what the engine hands over with the result
        end = time.perf_counter()
        cpu = time.process_time() - c0
        gaussians = head.gaussians
        for (name, start), (_, stop) in itertools.pairwise(marks):
            rows.append((f"instant: {name}", stop - start))
        rows.append(("instant: mesh handed over (trimesh)", end - marks[-1][1]))
        rows.append(("instant total", end - t))
        rows.append(("END TO END (load + preprocess + instant + mesh)", end - t0))

    width = max(len(r[0]) for r in rows)
    print(f"{'stage':<{width}}  seconds")
    for name, sec in rows:
        print(f"{name:<{width}}  {sec:7.3f}")
    # CPU seconds of all this process's threads: what the wall time is on an idle machine when
    # the work is single-threaded; under load the wall time above grows, this does not.
    print(f"end to end CPU time (all threads): {cpu:.3f} s")
    print(
        f"Gaussians: {len(gaussians):,}; mesh: {len(mesh.faces):,} triangles, watertight {mesh.is_watertight}"
    )
    print(f"notes: {'; '.join(prepared.notes)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
