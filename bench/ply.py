"""PLY write/read speed for a FaceLift-sized set (1.5 M Gaussians, SH degree 0).

    nice -n 10 .venv/bin/python bench/ply.py [--count 1500000] [--repeat 3] [--plyfile]

Prints, per layout, the best of --repeat runs for save_ply and load_ply, the file size, and
the ratio against the reference writer (FaceLift's GaussianModel.save_ply needs about 4 s per
500 k Gaussians, i.e. ~12 s for 1.5 M; spec §6.3 / issue 2). --plyfile also times the plyfile
library on the same data (the reference's writing path) as a measured baseline.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from ply_vertices import fill_splat_fields  # noqa: E402

from engine.gaussians import Gaussians  # noqa: E402
from engine.io.ply import load_ply, save_ply  # noqa: E402

REFERENCE_SECONDS_PER_GAUSSIAN = 4.0 / 500_000


def make_set(n: int, seed: int = 0) -> Gaussians:
    rng = np.random.default_rng(seed)
    f = np.float32
    return Gaussians(
        xyz=rng.uniform(-0.9, 0.9, (n, 3)).astype(f),
        sh_dc=rng.normal(0, 1, (n, 3)).astype(f),
        sh_rest=np.zeros((n, 0, 3), f),
        log_scales=rng.uniform(-7, -2, (n, 3)).astype(f),
        quats=rng.normal(0, 1, (n, 4)).astype(f),
        opacity_logits=rng.normal(0, 2, n).astype(f),
    )


def best_of(repeat: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def plyfile_write(g: Gaussians, path: Path) -> None:
    """The reference's way: a structured array of 62 named fields handed to plyfile."""
    from plyfile import PlyData, PlyElement

    from engine.io.ply import colour_bytes

    names = ["x", "y", "z", "red", "green", "blue", "f_dc_0", "f_dc_1", "f_dc_2"]
    names += [f"f_rest_{i}" for i in range(45)]
    names += ["opacity", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"]
    dtype = [(n, "u1" if n in ("red", "green", "blue") else "f4") for n in names]
    el = np.zeros(len(g), dtype=dtype)
    fill_splat_fields(el, g)
    rgb = colour_bytes(g.sh_dc)
    for i, c in enumerate(("red", "green", "blue")):
        el[c] = rgb[:, i]
    PlyData([PlyElement.describe(el, "vertex")]).write(str(path))


def plyfile_read(path: Path) -> None:
    from plyfile import PlyData

    v = PlyData.read(str(path))["vertex"]
    _ = np.stack([np.asarray(v[n]) for n in v.data.dtype.names], axis=1)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=1_500_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--plyfile", action="store_true", help="also time the plyfile library")
    args = ap.parse_args()

    n = args.count
    g = make_set(n)
    ref_write = REFERENCE_SECONDS_PER_GAUSSIAN * n
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for flavour in ("facelift", "inria"):
            path = Path(tmp) / f"{flavour}.ply"
            w = best_of(args.repeat, lambda p=path, f=flavour: save_ply(g, p, flavour=f))  # type: ignore[misc]
            r = best_of(args.repeat, lambda p=path: load_ply(p))  # type: ignore[misc]
            rows.append((f"engine.io.ply {flavour}", w, r, path.stat().st_size))
        if args.plyfile:
            path = Path(tmp) / "plyfile.ply"
            w = best_of(1, lambda: plyfile_write(g, path))
            r = best_of(1, lambda: plyfile_read(path))
            rows.append(("plyfile (reference path)", w, r, path.stat().st_size))

    print(f"PLY I/O, {n:,} Gaussians, SH degree 0, best of {args.repeat} (plyfile: 1 run)")
    print(f"reference writer: ~4 s per 500 k -> {ref_write:.1f} s for {n:,}")
    print()
    print(
        f"{'layout':28} {'write s':>8} {'read s':>8} {'MB':>7} {'write MB/s':>10} {'ref/write':>10} {'M Gauss/s w':>12}"
    )
    for name, w, r, size in rows:
        mb = size / 1e6
        print(
            f"{name:28} {w:8.3f} {r:8.3f} {mb:7.1f} {mb / w:10.0f} {ref_write / w:9.1f}x {n / w / 1e6:12.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
