"""Measure the instant engine's head on the test portraits (tests/fixtures/portraits).

Per portrait: front PSNR over the foreground (engine.render, 512x512, the input camera, against
the preprocessed input, foreground = matte > 0.5), the worst coverage of the filled silhouette
(alpha > 0.5) over the other five FaceLift cameras, the needle fraction
(engine.instant.quality.needle_fraction), the Gaussian count and the seconds the engine took.

Run: ``python bench/instant_quality.py [--sheets DIR] [NAME ...]``; ``--sheets`` also writes a
contact sheet per portrait (input + the six FaceLift views) and one of all of them.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from table import Column, print_table  # bench/table.py

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.cameras import facelift_cameras
from engine.instant import InstantReconstructor
from engine.instant.quality import front_psnr, needle_fraction, silhouette_coverage
from engine.io.images import load_photo
from engine.preprocess import preprocess_photo
from engine.render import prepare, render, to_uint8

PORTRAITS = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "portraits"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("names", nargs="*")
    parser.add_argument("--sheets", type=Path, default=None)
    args = parser.parse_args()
    files = sorted(PORTRAITS.glob("*.jpg"))
    if args.names:
        files = [f for f in files if f.stem in args.names]
    cams = facelift_cameras(512)
    rows = []
    sheets = []
    recon = InstantReconstructor()
    for f in files:
        prepared = preprocess_photo(load_photo(f))
        t = time.perf_counter()
        head = recon.reconstruct(prepared).gaussians
        sec = time.perf_counter() - t
        prep, backend = prepare(head)
        views = [render(prep, cams.c2w[i], cams.fxfycxcy[i], 512, 512, backend=backend) for i in range(6)]
        psnr = front_psnr(views[0].rgb, prepared.image, prepared.alpha)
        cover = min(silhouette_coverage(v.alpha) for v in views[1:])
        rows.append((f.stem, psnr, cover, needle_fraction(head), len(head), sec))
        print(
            f"{f.stem:<20} {psnr:6.2f} dB  cover {100 * cover:6.2f} %  needles {needle_fraction(head):.4f}"
            f"  {len(head):,} G  {sec:.2f} s",
            flush=True,
        )
        if args.sheets is not None:
            tiles = [prepared.image] + [to_uint8(v.rgb) for v in views]
            sheets.append(np.concatenate(tiles, axis=1))
    if args.sheets is not None and sheets:
        from PIL import Image

        args.sheets.mkdir(parents=True, exist_ok=True)
        for (name, *_), sheet in zip(rows, sheets):
            Image.fromarray(sheet).save(args.sheets / f"{name}.png")
        small = [
            np.asarray(Image.fromarray(s).resize((s.shape[1] // 4, s.shape[0] // 4), Image.LANCZOS))
            for s in sheets
        ]
        Image.fromarray(np.concatenate(small, axis=0)).save(args.sheets / "all.png")
    print()
    columns = [
        Column("portrait", 20, align="<"),
        Column("front PSNR", 10, ".2f", "dB"),
        Column("min cover", 10, ".2f", "%"),
        Column("needles", 8, ".4f"),
        Column("Gaussians", 10, ","),
        Column("seconds", 8, ".2f"),
    ]
    print_table(columns, [(name, psnr, 100 * cover, *rest) for name, psnr, cover, *rest in rows])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
