"""``facelift render PLY -o OUT.(mp4|gif|png)``: a turntable video or one still of a Gaussian head.

The input may be a 3DGS PLY (FaceLift or INRIA layout), a compressed PLY, an SPZ or a .splat
file (engine.io.gaussians_file), in FaceLift's frame (z up, face toward -Y; SPZ is mapped from
its own RUB frame). A PNG shows the front input camera's view unless ``--view`` names
another slot; ``--elevation`` raises the camera (turntable and PNG alike).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from engine.api import ProgressEvent
from engine.commands.options import add_turntable_options, check_render_size
from engine.errors import InputError
from engine.geometry import VIEW_NAMES
from engine.io.gaussians_file import load_gaussians
from engine.settings import TURNTABLE_ELEVATION

_NAMED = {"white": (1.0, 1.0, 1.0), "black": (0.0, 0.0, 0.0)}


def parse_background(text: str) -> tuple[float, float, float]:
    """white | black | #rrggbb -> RGB floats in [0,1]."""
    t = text.strip().lower()
    if t in _NAMED:
        return _NAMED[t]
    if re.fullmatch(r"#[0-9a-f]{6}", t):
        return tuple(int(t[i : i + 2], 16) / 255.0 for i in (1, 3, 5))  # type: ignore[return-value]
    raise InputError(f"--background: {text!r} is not white, black or #rrggbb")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "input", type=Path, metavar="PLY", help="Gaussian splat file (.ply, .compressed.ply, .spz or .splat)"
    )
    parser.add_argument("-o", "--output", type=Path, required=True, help="OUT.mp4, OUT.gif or OUT.png")
    add_turntable_options(parser)
    parser.add_argument(
        "--elevation",
        type=float,
        default=TURNTABLE_ELEVATION,
        help="camera elevation in degrees (default %(default)s)",
    )
    parser.add_argument("--background", default="white", help="white, black or #rrggbb (default white)")
    parser.add_argument("--view", choices=VIEW_NAMES, default=None, help="PNG only: which input camera")
    parser.add_argument("--lossless", action="store_true", help="MP4 as the reference: yuv444p, CRF 0")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output file")


def run(args: argparse.Namespace) -> int:
    from engine.io.atomic import refuse_overwrite

    out: Path = args.output
    suffix = out.suffix.lower()
    if suffix not in (".mp4", ".gif", ".png"):
        raise InputError(f"{out}: output must end in .mp4, .gif or .png")
    if args.view is not None and suffix != ".png":
        raise InputError("--view applies to a .png output only")
    check_render_size(args.size)
    background = parse_background(args.background)
    refuse_overwrite(out, args.overwrite)
    gaussians = load_gaussians(args.input)
    if suffix == ".png":
        from engine.cameras import view_camera
        from engine.io.export import snapshot_png

        camera = view_camera(args.view or "front", args.size, args.elevation)
        snapshot_png(gaussians, out, camera, background)
    else:
        _turntable(gaussians, out, args, background)
    print(f"wrote {out}", file=sys.stderr)
    return 0


def _turntable(gaussians, out: Path, args: argparse.Namespace, background) -> None:  # type: ignore[no-untyped-def]
    from tqdm import tqdm

    from engine.io.export import write_turntable

    with tqdm(total=args.frames, unit="frame", file=sys.stderr, desc=out.name) as bar:

        def on_progress(ev: ProgressEvent) -> None:
            if ev.stage == "turntable":
                bar.n = ev.step
                bar.refresh()

        write_turntable(
            gaussians,
            out,
            num_frames=args.frames,
            fps=args.fps,
            elevation_deg=args.elevation,
            size=args.size,
            background=background,
            lossless=args.lossless,
            on_progress=on_progress,
        )
