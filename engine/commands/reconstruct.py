"""``facelift reconstruct INPUT... -o OUT``: photos -> OUT/<stem>/{input.png, multiview.png,
gaussians.ply, output.png, turntable.mp4}.

Also accepts FaceLift inference.py's flags (-i/--input_dir, -o/--output_dir, --guidance_scale_2D,
--step_2D, --seed, --auto_crop). Differences from inference.py, on purpose:

* every image is seeded on its own (``--seed`` for each), so a result does not depend on which
  images came before it in the batch (inference.py shares one generator across the batch);
* a failed image is reported in one line and the batch goes on (exit code 1 at the end);
* existing outputs are not overwritten without ``--overwrite``;
* the output folder is named after the file name without its last suffix (``a.b.png`` -> ``a.b``;
  inference.py cuts at the first dot); two inputs with the same stem get ``<stem>_<ext>``.

Exit codes: 0 all done; 1 some images failed; 2 the only input, or the weights, are bad, or the
output folder cannot be written.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path

from engine.api import CancelToken, ProgressEvent, ReconstructionRequest
from engine.commands import WEIGHTS_HINT, error_text
from engine.commands.options import (
    add_engine_options,
    add_run_options,
    add_turntable_options,
    check_render_size,
    engine_config,
    run_options,
)
from engine.errors import Cancelled, FaceLiftError, InputError, WeightsError
from engine.settings import ENGINE_NAMES

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif", ".heic", ".heif")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="*", type=Path, metavar="INPUT", help="photos or folders of photos")
    parser.add_argument(
        "-i",
        "--input_dir",
        action="append",
        type=Path,
        default=[],
        help="a folder of photos (FaceLift's flag)",
    )
    parser.add_argument(
        "-o", "--output", "--output_dir", dest="output", type=Path, required=True, help="output folder"
    )
    parser.add_argument(
        "--engine",
        choices=ENGINE_NAMES,
        default=None,
        help="default: facelift when its weights are found, else instant",
    )
    add_engine_options(parser)
    add_run_options(parser, reference_flags=True)
    parser.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    add_turntable_options(parser, frames_help="turntable frames, 0 = no video")


def collect_inputs(paths: list[Path]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Expand folders (images sorted by name, suffix case-insensitive). Returns (images, problems)."""
    images: list[Path] = []
    problems: list[tuple[Path, str]] = []
    for p in paths:
        if p.is_dir():
            found = sorted(
                (c for c in p.iterdir() if c.is_file() and c.suffix.lower() in IMAGE_SUFFIXES),
                key=lambda c: c.name,
            )
            if not found:
                problems.append((p, f"{p}: no images in this folder ({', '.join(IMAGE_SUFFIXES[:4])}, ...)"))
            images.extend(found)
        elif p.is_file():
            images.append(p)
        else:
            problems.append((p, f"{p}: no such file or folder"))
    return images, problems


def output_names(images: list[Path]) -> list[str]:
    """One folder name per image: its stem, or <stem>_<ext> when two inputs share a stem."""
    stems = [p.stem for p in images]
    seen: dict[str, int] = {}
    names = []
    for p, stem in zip(images, stems):
        name = stem if stems.count(stem) == 1 else f"{stem}_{p.suffix.lstrip('.').lower()}"
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 1
        names.append(name)
    return names


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from engine.engines import make_engine
    from engine.io.atomic import probe_writable
    from engine.outputs import check_can_write, write_outputs

    images, problems = collect_inputs([*args.inputs, *args.input_dir])
    if not images and not problems:
        raise InputError("no input: give photos or folders (INPUT... or -i DIR)")
    if args.frames < 0:
        raise InputError(f"--frames must be 0 or more, got {args.frames}")
    check_render_size(args.size)
    options = run_options(args)
    n_inputs = len(images) + len(problems)
    failed = [msg for _, msg in problems]
    for msg in failed:
        print(f"facelift: error: {msg}", file=sys.stderr)
    if not images:
        return 2 if n_inputs == 1 else 1

    # Outputs that exist (and may not be replaced) are refused before any model loads.
    jobs: list[tuple[Path, Path]] = []
    for path, name in zip(images, output_names(images)):
        try:
            check_can_write(args.output / name, args.overwrite)
        except FaceLiftError as exc:
            failed.append(str(exc))
            print(f"facelift: error: {_name_file(path, str(exc))}", file=sys.stderr)
            continue
        jobs.append((path, args.output / name))
    if not jobs:
        print(f"facelift: {len(failed)} of {n_inputs} inputs failed", file=sys.stderr)
        return 2 if n_inputs == 1 else 1

    probe_writable(args.output)  # an unwritable destination fails now, not after the run (exit 2)
    config = engine_config(args)
    engine = make_engine(config)
    chosen = engine.describe()
    if config.engine is None and engine.name == "instant":  # chosen because no weights were found
        chosen += f"; {WEIGHTS_HINT}"
    print(f"facelift: using the {chosen}", file=sys.stderr)
    cancel = CancelToken()
    bar = tqdm(total=len(jobs), unit="image", file=sys.stderr, dynamic_ncols=True)

    def on_progress(ev: ProgressEvent) -> None:
        where = f" {ev.step}/{ev.total}" if ev.total else ""
        bar.set_postfix_str(f"{ev.stage}{where}", refresh=True)

    try:
        engine.load(on_progress)  # bad weights stop the batch here (exit 2)
        for path, out_dir in jobs:
            bar.set_description(path.name[:30])
            try:
                request = ReconstructionRequest(path, options)
                result = engine.run(request, on_progress, cancel)
                write_outputs(
                    result,
                    out_dir,
                    turntable_frames=args.frames,
                    fps=args.fps,
                    render_size=args.size,
                    overwrite=args.overwrite,
                    on_progress=on_progress,
                    cancel=cancel,
                )
                bar.write(f"{path}: done -> {out_dir}", file=sys.stderr)
            except (WeightsError, Cancelled):
                raise
            except FaceLiftError as exc:
                failed.append(str(exc))
                bar.write(f"facelift: error: {_name_file(path, error_text(exc))}", file=sys.stderr)
            except Exception as exc:  # a bug should not lose the rest of the batch
                if args.debug:
                    traceback.print_exc()
                failed.append(str(exc))
                msg = " ".join(f"{type(exc).__name__}: {exc}".split())
                bar.write(f"facelift: error: {path}: unexpected failure ({msg})", file=sys.stderr)
            bar.update(1)
    finally:
        bar.close()
    if failed:
        print(f"facelift: {len(failed)} of {n_inputs} inputs failed", file=sys.stderr)
        return 2 if n_inputs == 1 else 1
    return 0


def _name_file(path: Path, message: str) -> str:
    """The message, prefixed with the input's path unless it already names it."""
    return message if str(path) in message or path.name in message else f"{path}: {message}"
