"""Viewport frame rates and sort times for 100 k, 500 k and 1.5 M Gaussians (run under Xvfb).

    xvfb-run -a -s "-screen 0 1920x1080x24 +extension GLX" python bench/viewer.py [--sizes 100000,500000,1500000]

For each size: frames/s with the camera still (every splat drawn), frames/s while orbiting
(the level-of-detail subset the viewer picks from its measured frame cost, with the
background re-sorts that orbiting triggers), how many splats the moving frames drew, and the
back-to-front sort time of the full set (numpy argsort + gather, what the sort thread does),
how long after the camera stops every splat is on screen (sort off-thread, then chunked
drawing) and the longest the GUI thread was blocked by one chunk meanwhile. "still fps" is
drawing every splat in one go (what a screenshot or export does).
Synthetic heads (viewer.synthetic) stand in for results; the numbers depend on the GL driver
(Mesa llvmpipe here) and the window size.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

# This file is called viewer.py: keep its folder off sys.path so ``import viewer`` finds the package.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,500000,1500000")
    parser.add_argument("--width", type=int, default=960)
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument("--orbit-frames", type=int, default=60)
    args = parser.parse_args()

    from vispy import app
    from vispy.gloo import gl

    from viewer.canvas import GaussianViewer
    from viewer.sorting import SortJob, run_job
    from viewer.synthetic import synthetic_head

    viewer = GaussianViewer(size=(args.width, args.height), show=True)
    app.process_events()
    renderer = gl.glGetParameter(gl.GL_RENDERER)
    print(
        f"GL renderer: {renderer}; window {args.width}x{args.height}; target {viewer.target_fps:.0f} fps while moving"
    )
    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        head = synthetic_head(n)
        t0 = time.perf_counter()
        viewer.set_gaussians(head, reset_view=True)
        upload_prep = time.perf_counter() - t0
        viewer.settle()

        def frame() -> float:
            t = time.perf_counter()
            viewer.canvas.update()
            app.process_events()
            return time.perf_counter() - t

        # still: every splat
        frame()
        still = statistics.median(frame() for _ in range(3))
        # orbiting: the viewer moves to its LOD subset and adapts the budget from frame costs
        drawn = []
        for _ in range(10):  # warm-up: the budget settles
            viewer.orbit(2.0)
            frame()
        t = time.perf_counter()
        for _ in range(args.orbit_frames):
            viewer.orbit(2.0)
            frame()
            drawn.append(viewer.drawn_count)
        orbit_fps = args.orbit_frames / (time.perf_counter() - t)
        # stop: the full set is sorted off-thread, then drawn in chunks between events
        t = time.perf_counter()
        while viewer.busy and time.perf_counter() - t < 120:
            app.process_events()
            time.sleep(0.002)
        to_full = time.perf_counter() - t
        chunk_times = list(viewer.chunk_seconds)
        viewer.settle()
        arrays = viewer._arrays
        assert arrays is not None
        times = []
        for az in (0.0, 30.0, 60.0):
            row = np.array([np.sin(np.radians(az)), np.cos(np.radians(az)), 0.0, 2.7])
            times.append(run_job(SortJob(arrays, 0, row, np.arange(n))).seconds)
        block = max(chunk_times) if chunk_times else still
        rows.append(
            (
                n,
                1.0 / still,
                orbit_fps,
                int(np.median(drawn)),
                statistics.median(times),
                upload_prep,
                to_full,
                block,
            )
        )
        print(f"  {n:,} done", flush=True)

    print()
    print(
        f"{'Gaussians':>10} | {'still fps':>9} | {'orbit fps':>9} | {'drawn moving':>12} | {'sort s':>7} | "
        f"{'prepare s':>9} | {'stop->full s':>12} | {'longest block s':>15}"
    )
    print("-" * 110)
    for n, s, o, d, srt, prep, full, block in rows:
        print(
            f"{n:>10,} | {s:>9.2f} | {o:>9.1f} | {d:>12,} | {srt:>7.3f} | {prep:>9.2f} | {full:>12.2f} | {block:>15.2f}"
        )
    viewer.close()


if __name__ == "__main__":
    main()
