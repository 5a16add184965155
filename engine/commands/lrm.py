"""``facelift lrm``: your own six views -> a Gaussian PLY through GS-LRM.

Views come in the slot order front, front_right, right, back, left, front_left. They are
used at their own size when it is a multiple of the patch size and not larger than the
model's image_size; otherwise they are resized (Lanczos) to image_size x image_size.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from engine.commands.options import add_engine_options
from engine.errors import InputError
from engine.geometry import VIEW_NAMES

NUM_VIEWS = len(VIEW_NAMES)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "views",
        nargs="+",
        metavar="VIEW",
        help=f"six view images (PNG/JPEG) in the order {', '.join(VIEW_NAMES)}",
    )
    parser.add_argument("-o", "--output", required=True, metavar="OUT.ply", help="Gaussian PLY to write")
    add_engine_options(parser, memory_preset=False)
    parser.add_argument(
        "--cameras",
        metavar="JSON",
        help="opencv_cameras.json whose frames are already in view order (default: the FaceLift rig)",
    )
    parser.add_argument(
        "--no-filter",
        action="store_true",
        help="keep every Gaussian (skip FaceLift's opacity/size/box filters)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing OUT.ply")
    parser.add_argument(
        "--precision",
        choices=("auto", "fp32", "fp16", "bf16"),
        default="auto",
        help="auto: fp16 autocast on CUDA (as released), fp32 on CPU",
    )


def load_views(paths: list[str], image_size: int, patch_size: int) -> np.ndarray:
    """(6,H,W,3) uint8 views from six image files (see the module docstring for sizes)."""
    from engine.io.images import load_photo, resize_square

    if len(paths) != NUM_VIEWS:
        raise InputError(f"facelift lrm needs {NUM_VIEWS} views ({', '.join(VIEW_NAMES)}), got {len(paths)}")
    photos = [load_photo(p) for p in paths]
    sizes = {(im.shape[1], im.shape[0]) for im in photos}
    if len(sizes) != 1:
        listed = ", ".join(f"{Path(p).name} {im.shape[1]}x{im.shape[0]}" for p, im in zip(paths, photos))
        raise InputError(f"the six views must have one size, got {listed}")
    ((w, h),) = sizes
    if w % patch_size == 0 and h % patch_size == 0 and max(w, h) <= image_size:
        return np.stack(photos)
    side = image_size
    return np.stack([resize_square(im, side) for im in photos])


def run(args: argparse.Namespace) -> int:
    from engine.cameras import load_cameras_json
    from engine.gslrm.reconstructor import GSLRMReconstructor
    from engine.io.atomic import refuse_overwrite
    from engine.io.ply import save_ply
    from engine.oom import oom_guard
    from engine.weights import require_weights

    if len(args.views) != NUM_VIEWS:
        raise InputError(
            f"facelift lrm needs {NUM_VIEWS} views ({', '.join(VIEW_NAMES)}), got {len(args.views)}"
        )
    refuse_overwrite(args.output, args.overwrite)  # before any model loads
    cameras = load_cameras_json(args.cameras, order=None) if args.cameras else None
    if cameras is not None and len(cameras) != NUM_VIEWS:
        raise InputError(f"{args.cameras}: needs {NUM_VIEWS} camera frames in view order, got {len(cameras)}")
    weights = require_weights(args.weights_dir)
    with oom_guard("loading GS-LRM", device=args.device):
        reconstructor = GSLRMReconstructor.from_weights(weights, args.device, args.precision)
    views = load_views(args.views, reconstructor.image_size, reconstructor.patch_size)
    with oom_guard("running GS-LRM", device=args.device, free=reconstructor.unload):
        gaussians = reconstructor.reconstruct(views, cameras, apply_filter=not args.no_filter)
    save_ply(gaussians, args.output)
    h, w = views.shape[1:3]
    print(f"{args.output}: {len(gaussians)} Gaussians from six {w}x{h} views")
    return 0
