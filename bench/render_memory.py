"""Peak memory of one torch-rasteriser frame when the Gaussians are large.

Usage: python bench/render_memory.py [--n 200000] [--grow 1,4,8] [--res 512] [--budget 0]

Each case runs in a fresh process: bench/render.py's head-like set of N Gaussians with every
scale multiplied by GROW (1 = a trained head's few-pixel footprints; larger = a scene's big
background splats or an untrained network's blobs), one frame from FaceLift's front camera.
Prints the (sub-tile, Gaussian) pairs the frame lists, the regions it is blended in, the time
and the process's peak RSS, with the default pair budget and with none (``--budget`` sets
another; 0 = the renderer's default), and the ratio of the two peaks. Never asserts anything.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

NO_BUDGET = 1 << 62


def child(n: int, grow: float, res: int, budget: int) -> dict[str, float]:
    """One frame in this process: pairs, regions, seconds, peak RSS in MB."""
    import torch
    from render import head_like

    import engine.render.torch_raster as raster
    from engine.cameras import facelift_cameras
    from engine.gaussians import Gaussians
    from engine.render.projection import prepare_gaussians, project
    from engine.render.types import Camera

    g = head_like(n)
    g = Gaussians(g.xyz, g.sh_dc, g.sh_rest, g.log_scales + np.log(grow), g.quats, g.opacity_logits)
    cams = facelift_cameras(res)
    cam = Camera.from_arrays(cams.c2w[0], cams.fxfycxcy[0], res, res)
    proj = project(prepare_gaussians(g), cam)
    gx = gy = -(-res // raster.TILE) * (raster.TILE // raster.SUBTILE)
    _, lo, hi = raster._sorted_boxes(proj, raster.SUBTILE, gx, gy)
    pairs = raster._pair_count(lo, hi, (0, 0, gx, gy))
    budget = budget or raster.PAIR_BUDGET
    regions = len(list(raster._regions(lo, hi, (0, 0, gx, gy), budget)))
    del lo, hi
    start = time.perf_counter()
    raster.rasterize(proj, res, res, torch.ones(3), pair_budget=budget)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"pairs": pairs, "regions": regions, "seconds": seconds, "peak_mb": peak}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--grow", default="1,4,8", help="scale factors, comma-separated")
    ap.add_argument("--res", type=int, default=512)
    ap.add_argument("--budget", type=int, default=0, help="pair budget (0 = the renderer's default)")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        grow, budget = float(args.child[0]), int(args.child[1])
        print(json.dumps(child(args.n, grow, args.res, budget)))
        return 0

    def run(grow: str, budget: int) -> dict[str, float]:
        cmd = [
            sys.executable,
            __file__,
            "--n",
            str(args.n),
            "--res",
            str(args.res),
            "--child",
            grow,
            str(budget),
            "x",
        ]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        return dict(json.loads(out.strip().splitlines()[-1]))

    print(f"{args.n:,} head-like Gaussians, one {args.res}^2 frame, torch rasteriser, fresh process per case")
    print(
        f"{'grow':>5} {'pairs':>13} {'regions':>8} {'time s':>8} {'peak MB':>9}   no budget: {'time s':>7} {'peak MB':>9}  peak ratio"
    )
    for grow in args.grow.split(","):
        with_budget, without = run(grow, args.budget), run(grow, NO_BUDGET)
        print(
            f"{float(grow):>5g} {int(with_budget['pairs']):>13,} {int(with_budget['regions']):>8}"
            f" {with_budget['seconds']:>8.2f} {with_budget['peak_mb']:>9,.0f}"
            f"   {'':>10} {without['seconds']:>7.2f} {without['peak_mb']:>9,.0f}"
            f"  {with_budget['peak_mb'] / without['peak_mb']:>10.3f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
