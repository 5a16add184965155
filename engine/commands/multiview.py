"""``facelift multiview IMAGE -o OUTDIR``: a photo -> FaceLift's six generated views.

Writes front.png, front_right.png, right.png, back.png, left.png, front_left.png and
multiview.png (the six side by side) into OUTDIR, all-or-nothing: every file is written to a
temporary name first and only renamed once all of them are complete.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

import numpy as np

from engine.api import ProgressEvent
from engine.commands.options import add_engine_options, add_run_options, engine_config, run_options
from engine.errors import InputError, OutputError
from engine.geometry import VIEW_NAMES
from engine.settings import RunOptions


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "image", type=Path, help="the portrait photo (or a prepared crop with --no-preprocess)"
    )
    parser.add_argument("-o", "--output", type=Path, required=True, help="folder for the view PNGs")
    add_engine_options(parser)
    add_run_options(parser)
    parser.add_argument("--overwrite", action="store_true", help="replace view PNGs already in OUTDIR")


def _prepared_image(image: Path, options: RunOptions) -> np.ndarray:
    if not options.preprocess:
        from engine.io.images import load_photo

        return load_photo(image)
    from engine.preprocess import preprocess_photo

    prepared = preprocess_photo(image, framing=options.framing_for())
    for note in prepared.notes:
        print(f"preprocess: {note}", file=sys.stderr)
    return prepared.image


def write_views(views: np.ndarray, out_dir: Path) -> list[Path]:
    """Write the six views and their side-by-side strip; all files appear together or none."""
    from PIL import Image

    from engine.io.atomic import atomic_write

    if views.ndim != 4 or views.shape[0] != len(VIEW_NAMES):
        raise OutputError(f"{out_dir}: expected {len(VIEW_NAMES)} views, got shape {views.shape}")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out_dir}: cannot create the output folder ({exc.strerror or exc})") from exc
    images = {f"{name}.png": views[i] for i, name in enumerate(VIEW_NAMES)}
    images["multiview.png"] = np.concatenate(list(views), axis=1)
    paths = [out_dir / name for name in images]
    with contextlib.ExitStack() as stack:
        for path, pixels in zip(paths, images.values()):
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

    if not args.image.is_file():
        raise InputError(f"{args.image}: file not found")
    if args.output.is_dir():  # earlier views are refused before any model loads
        for name in (*(f"{view}.png" for view in VIEW_NAMES), "multiview.png"):
            refuse_overwrite(args.output / name, args.overwrite)

    config = engine_config(args)
    options = run_options(args)
    image = _prepared_image(args.image, options)
    weights = require_weights(config.weights_dir)
    device, preset = config.device, config.memory_preset
    with oom_guard("loading the diffusion models", device=device, memory_preset=preset):
        mvd = MultiViewDiffusion.from_weights(
            weights, device=config.device, memory_preset=config.memory_preset
        )

    def report(event: ProgressEvent) -> None:
        if event.step:
            print(f"\r{event.message}", end="", file=sys.stderr, flush=True)

    try:
        with oom_guard("generating the six views", device=device, memory_preset=preset, free=mvd.unload):
            views = mvd.generate(
                image,
                seed=options.seed,
                guidance_scale=options.guidance_scale,
                num_steps=options.num_steps,
                sampler=options.sampler,
                on_progress=report,
            )
    finally:
        print(file=sys.stderr)
        mvd.unload()
    for path in write_views(views, args.output):
        print(path)
    return 0
