"""Export formats at FaceLift's size: file size, write time and fidelity per format.

    nice -n 10 .venv/bin/python bench/export.py [--size 512] [--render 512] [--mesh] [--keep DIR]

The head is FaceLift-style (tests/export_sets.py): one pixel-aligned Gaussian per pixel of the
six FaceLift input cameras at --size px (512: 6 x 512^2 = 1,572,864 Gaussians, SH degree 0),
cast on an analytic textured head; background pixels carry faint white Gaussians as GS-LRM's
do. Each Gaussian format is written, read back through engine.io.gaussians_file, and rendered
from the six FaceLift views at --render px; PSNR is against the source's renders (the
unfiltered set, as reconstruct's output.png). Ratio = FaceLift PLY size / format size.
--mesh also fuses the filtered head into a GLB (time and size; no PSNR). Wall-clock times on a
shared machine: read them as rough.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from export_sets import facelift_style_head  # noqa: E402

from engine.cameras import facelift_cameras  # noqa: E402
from engine.gaussians import Gaussians  # noqa: E402
from engine.io.formats import export_head, format_of  # noqa: E402
from engine.io.gaussians_file import load_gaussians  # noqa: E402


def six_views(g: Gaussians, size: int) -> np.ndarray:
    """(6,size,size,3) float32 renders from the FaceLift input cameras, white background."""
    from engine.render import prepare, render

    cams = facelift_cameras(size)
    prepared, backend = prepare(g)
    return np.stack(
        [render(prepared, cams.c2w[i], cams.fxfycxcy[i], size, size, backend=backend).rgb for i in range(6)]
    )


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((np.clip(a, 0, 1) - np.clip(b, 0, 1)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(1.0 / mse)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=512, help="pixels per side of each of the six views")
    ap.add_argument("--render", type=int, default=512, help="render size for the PSNR")
    ap.add_argument("--mesh", action="store_true", help="also fuse and write a GLB mesh")
    ap.add_argument("--keep", type=Path, default=None, help="write the files here and keep them")
    args = ap.parse_args()

    head = facelift_style_head(args.size)
    print(f"FaceLift-style head: {len(head):,} Gaussians (6 x {args.size}^2), SH degree {head.sh_degree}")
    reference = six_views(head, args.render)
    folder = args.keep or Path(tempfile.mkdtemp(prefix="facelift-bench-export-"))
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in ("head.ply", "head.compressed.ply", "head.spz", "head.splat"):
        out = folder / name
        start = time.perf_counter()
        export_head(head, out)
        wrote = time.perf_counter() - start
        start = time.perf_counter()
        back = load_gaussians(out)
        read = time.perf_counter() - start
        assert len(back) == len(head)
        rows.append(
            (
                format_of(out).name,
                out.stat().st_size,
                wrote,
                read,
                psnr(six_views(back, args.render), reference),
            )
        )
        print(f"  {rows[-1][0]} done", file=sys.stderr)
    if args.mesh:
        out = folder / "head.glb"
        start = time.perf_counter()
        export_head(head.filter(), out)
        rows.append(
            (
                "glb (fused, 100k tris)",
                out.stat().st_size,
                time.perf_counter() - start,
                float("nan"),
                float("nan"),
            )
        )
    ply_size = rows[0][1]
    print(f"\n{'format':<24}{'size MB':>10}{'ratio':>8}{'write s':>9}{'read s':>8}{'PSNR dB':>9}")
    for name, size, wrote, read, quality in rows:
        print(f"{name:<24}{size / 1e6:>10.1f}{ply_size / size:>8.1f}{wrote:>9.1f}{read:>8.1f}{quality:>9.2f}")
    if args.keep is None:
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(main())
