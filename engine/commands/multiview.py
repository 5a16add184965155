"""``facelift multiview IMAGE -o OUTDIR``: a photo -> the model's generated views.

Writes one ``<view name>.png`` per view of the weights folder's model (FaceLift's six: front.png,
front_right.png, right.png, back.png, left.png, front_left.png; a custom model folder's
facelift-model.json names its own, engine.weights.model_folder) and multiview.png (the views
side by side) into OUTDIR, all-or-nothing: every file is written to a temporary name first and
only renamed once all of them are complete. The photo is framed with the model's own framing
unless --framing / --no-auto-crop say otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from engine.api import ProgressEvent
from engine.commands.options import add_engine_options, add_run_options, engine_config, run_options
from engine.errors import InputError, OutputError
from engine.geometry import VIEW_NAMES
from engine.settings import RunOptions

if TYPE_CHECKING:
    from engine.weights.model_folder import ModelDescription


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "image", type=Path, help="the portrait photo (or a prepared crop with --no-preprocess)"
    )
    parser.add_argument("-o", "--output", type=Path, required=True, help="folder for the view PNGs")
    add_engine_options(parser)
    add_run_options(parser)
    parser.add_argument("--overwrite", action="store_true", help="replace view PNGs already in OUTDIR")


def _prepared_image(image: Path, options: RunOptions, model: ModelDescription) -> np.ndarray:
    if not options.preprocess:
        from engine.io.images import load_photo

        return load_photo(image)
    from engine.preprocess import preprocess_photo

    framing = options.framing_for(model.framing)
    prepared = preprocess_photo(image, framing=framing, target_ratio=model.target_ratio)
    for note in prepared.notes:
        print(f"preprocess: {note}", file=sys.stderr)
    return prepared.image


def view_file_names(names: tuple[str, ...] = VIEW_NAMES) -> list[str]:
    """The files a run writes: ``<name>.png`` per view, then the strip multiview.png."""
    return [*(f"{name}.png" for name in names), "multiview.png"]


def write_views(views: np.ndarray, out_dir: Path, names: tuple[str, ...] = VIEW_NAMES) -> list[Path]:
    """Write the (V,H,W,3) uint8 views as ``<name>.png`` (V names, in view order) and their
    side-by-side strip; all files appear together or none."""
    from PIL import Image

    from engine.io.atomic import atomic_write

    if views.ndim != 4 or views.shape[0] != len(names):
        raise OutputError(
            f"{out_dir}: expected {len(names)} views ({', '.join(names)}), got shape {views.shape}"
        )
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out_dir}: cannot create the output folder ({exc.strerror or exc})") from exc
    files = view_file_names(names)
    images = [*views, np.concatenate(list(views), axis=1)]
    paths = [out_dir / name for name in files]
    with contextlib.ExitStack() as stack:
        for path, pixels in zip(paths, images):
            tmp = stack.enter_context(atomic_write(path))
            try:
                Image.fromarray(np.ascontiguousarray(pixels)).save(tmp, format="PNG")
            except OSError as exc:
                raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from exc
    return paths


def run(args: argparse.Namespace) -> int:
    from engine.io.atomic import refuse_overwrite
    from engine.mvdiffusion.pipeline import MultiViewDiffusion
    from engine.oom import oom_guard
    from engine.weights import require_weights
    from engine.weights.model_folder import describe_model

    if not args.image.is_file():
        raise InputError(f"{args.image}: file not found")
    config = engine_config(args)
    options = run_options(args)
    weights = require_weights(config.weights_dir)
    model = describe_model(weights)  # a broken folder is one line before anything runs
    if args.output.is_dir():  # earlier views are refused before any model loads
        for name in view_file_names(model.view_names):
            refuse_overwrite(args.output / name, args.overwrite)
    image = _prepared_image(args.image, options, model)
    device, preset = config.device, config.memory_preset
    with oom_guard("loading the diffusion models", device=device, memory_preset=preset):
        mvd = MultiViewDiffusion.from_weights(
            weights, device=config.device, memory_preset=config.memory_preset
        )

    def report(event: ProgressEvent) -> None:
        if event.step:
            print(f"\r{event.message}", end="", file=sys.stderr, flush=True)

    try:
        what = "the six views" if model.num_views == 6 else f"the {model.num_views} views"
        with oom_guard(f"generating {what}", device=device, memory_preset=preset, free=mvd.unload):
            views = mvd.generate(image, **options.sampling(), on_progress=report)
    finally:
        print(file=sys.stderr)
        mvd.unload()
    for path in write_views(views, args.output, model.view_names):
        print(path)
    return 0
