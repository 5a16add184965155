"""Renderer speed on the CPU: ms per 512x512 frame for synthetic head-like Gaussian sets.

Usage: python bench/render.py [--sizes 100000,500000,1500000] [--res 512] [--repeat 3]
       [--turntable 500000] [--turntable-frames 150] [--backend torch-cpu] [--threads N]

The sets are "head-like": centres on an ellipsoid surface (semi-axes 0.55, 0.62, 0.75,
like a FaceLift head) with a thin shell of depth jitter, scales about the point spacing
(a few pixels' footprint at 512 px), random rotations, high opacities (median ~0.9) and
skin-like colours. Prints wall-clock and process CPU time (the CPU column is the steadier
number on a shared machine); never asserts timings.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.cameras import facelift_cameras
from engine.gaussians import Gaussians
from engine.sh import SH_C0


def head_like(n: int, seed: int = 0) -> Gaussians:
    """n Gaussians on a head-sized ellipsoid shell (FaceLift world frame)."""
    rng = np.random.default_rng(seed)
    d = rng.normal(size=(n, 3))
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    axes = np.array([0.55, 0.62, 0.75])
    xyz = d * axes * (1.0 + rng.normal(0, 0.01, (n, 1)))
    area = 4 * np.pi * (axes.prod() ** (2 / 3))
    spacing = np.sqrt(area / n)
    scales = spacing * rng.uniform(0.4, 1.0, (n, 3))
    colour = np.array([0.85, 0.65, 0.55]) + rng.normal(0, 0.05, (n, 3))
    return Gaussians(
        xyz=xyz,
        sh_dc=(colour - 0.5) / SH_C0,
        sh_rest=np.zeros((n, 0, 3)),
        log_scales=np.log(scales),
        quats=rng.normal(size=(n, 4)),
        opacity_logits=rng.normal(2.2, 1.0, n),
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="100000,500000,1500000")
    ap.add_argument("--res", type=int, default=512)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument(
        "--turntable", type=int, default=500000, help="Gaussians for the turntable run (0 = skip)"
    )
    ap.add_argument("--turntable-frames", type=int, default=150)
    ap.add_argument("--backend", default="torch-cpu")
    ap.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0 = torch's default)")
    args = ap.parse_args()

    import torch

    if args.threads > 0:
        torch.set_num_threads(args.threads)

    from engine.render import prepare, render
    from engine.render.turntable import render_turntable

    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, backend {args.backend}, {args.res}x{args.res}"
    )
    cams = facelift_cameras(args.res)
    rows = []
    for n in [int(s) for s in args.sizes.split(",") if s]:
        g = head_like(n)
        t0 = time.perf_counter()
        prep, backend = prepare(g, args.backend)
        t_prep = time.perf_counter() - t0
        wall, cpu = [], []
        views = [0, 1, 2]  # front, front_right, right
        for r in range(args.repeat):
            v = views[r % len(views)]
            t0, c0 = time.perf_counter(), time.process_time()
            res = render(prep, cams.c2w[v], cams.fxfycxcy[v], args.res, args.res, backend=backend)
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        cover = float((res.alpha > 0.5).mean())
        rows.append((n, t_prep, min(wall), float(np.median(wall)), min(cpu), cover, backend))
        del prep

    print()
    print(
        f"| Gaussians | prepare ms | frame ms (best) | frame ms (median of {args.repeat}) | CPU ms (best) | coverage | backend |"
    )
    print("|---:|---:|---:|---:|---:|---:|---|")
    for n, tp, best, med, cpu_best, cover, backend in rows:
        print(
            f"| {n:,} | {tp * 1e3:.0f} | {best * 1e3:.0f} | {med * 1e3:.0f} | {cpu_best * 1e3:.0f} "
            f"| {cover:.2f} | {backend} |"
        )

    if args.turntable > 0:
        g = head_like(args.turntable)
        t0, c0 = time.perf_counter(), time.process_time()
        count = sum(
            1 for _ in render_turntable(g, args.turntable_frames, size=args.res, backend=args.backend)
        )
        total, total_cpu = time.perf_counter() - t0, time.process_time() - c0
        print()
        print("| turntable (prepare + all frames, uint8) | frames | total s | ms / frame | CPU s |")
        print("|---|---:|---:|---:|---:|")
        print(
            f"| {args.turntable:,} Gaussians, {args.res}x{args.res} | {count} | {total:.1f} "
            f"| {total / count * 1e3:.0f} | {total_cpu:.1f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
