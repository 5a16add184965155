"""``facelift lrm``: your own N posed views -> a Gaussian PLY through GS-LRM.

One camera per view, in the views' order: ``--cameras JSON`` (FaceLift's opencv_cameras.json
schema, frames in view order), else the weights folder's cameras (engine.weights.model_folder:
its opencv_cameras.json, else FaceLift's six in the slot order front, front_right, right, back,
left, front_left). Any number of views works (GS-LRM attends over all of them); the counts must
agree. Views are used at their own size when it is a multiple of the patch size and not larger
than the model's image_size; otherwise they are resized (Lanczos) to image_size x image_size.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from engine.commands.options import add_engine_options
from engine.errors import InputError
from engine.geometry import VIEW_NAMES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "views",
        nargs="+",
        metavar="VIEW",
        help="view images (PNG/JPEG), one per camera in the cameras' order (FaceLift's six: "
        f"{', '.join(VIEW_NAMES)})",
    )
    parser.add_argument("-o", "--output", required=True, metavar="OUT.ply", help="Gaussian PLY to write")
    add_engine_options(parser, memory_preset=False)
    parser.add_argument(
        "--cameras",
        metavar="JSON",
        help="opencv_cameras.json whose frames are in view order, one per view (default: the weights "
        "folder's cameras, else the FaceLift rig)",
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
    """(V,H,W,3) uint8 views from V image files (see the module docstring for sizes)."""
    from engine.io.images import load_photo, resize_square

    photos = [load_photo(p) for p in paths]
    sizes = {(im.shape[1], im.shape[0]) for im in photos}
    if len(sizes) != 1:
        listed = ", ".join(f"{Path(p).name} {im.shape[1]}x{im.shape[0]}" for p, im in zip(paths, photos))
        raise InputError(f"the {len(paths)} views must have one size, got {listed}")
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
    from engine.weights.model_folder import model_cameras

    refuse_overwrite(args.output, args.overwrite)  # before any model loads
    weights = require_weights(args.weights_dir)
    if args.cameras:
        cameras, source = load_cameras_json(args.cameras, order=None), Path(args.cameras)
    else:
        cameras, source = model_cameras(weights)
    if len(cameras) != len(args.views):
        hint = "" if args.cameras else " (give --cameras JSON with one frame per view)"
        raise InputError(
            f"{source}: {len(cameras)} cameras for {len(args.views)} views; "
            f"facelift lrm needs one camera per view{hint}"
        )
    with oom_guard("loading GS-LRM", device=args.device):
        reconstructor = GSLRMReconstructor.from_weights(weights, args.device, args.precision)
    views = load_views(args.views, reconstructor.image_size, reconstructor.patch_size)
    with oom_guard("running GS-LRM", device=args.device, free=reconstructor.unload):
        gaussians = reconstructor.reconstruct(views, cameras, apply_filter=not args.no_filter)
    save_ply(gaussians, args.output)
    h, w = views.shape[1:3]
    print(f"{args.output}: {len(gaussians)} Gaussians from {len(views)} views of {w}x{h}")
    return 0
