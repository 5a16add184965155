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
from dataclasses import replace
from pathlib import Path

from engine.batch.jobs import Job, Outcome, PhotoSettings, PhotoWorker, name_file
from engine.batch.progress import BatchProgress, write_report
from engine.batch.serial import run_serial
from engine.commands import WEIGHTS_HINT
from engine.commands.batch_args import add_batch_arguments, formats_of, ray_plan, threads_of
from engine.commands.options import (
    add_engine_options,
    add_run_options,
    add_turntable_options,
    check_render_size,
    engine_config,
    run_options,
)
from engine.errors import FaceLiftError, InputError
from engine.io.atomic import refuse_overwrite
from engine.settings import ENGINE_NAMES, EngineConfig

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
    parser.add_argument(
        "--mesh", action="store_true", help="also write mesh.glb, the head's triangle mesh (+Z up)"
    )
    add_turntable_options(parser, frames_help="turntable frames, 0 = no video")
    add_batch_arguments(parser)


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
    from engine.batch.jobs import PhotoSettings
    from engine.io.atomic import probe_writable
    from engine.outputs import OutputSpec

    images, problems = collect_inputs([*args.inputs, *args.input_dir])
    if not images and not problems:
        raise InputError("no input: give photos or folders (INPUT... or -i DIR)")
    if args.frames < 0:
        raise InputError(f"--frames must be 0 or more, got {args.frames}")
    check_render_size(args.size)
    outputs = OutputSpec(args.frames, args.fps, args.size, formats_of(args.formats), args.mesh)
    settings = PhotoSettings(run_options(args), outputs, args.engine or "auto")
    threads = threads_of(args)
    if args.resume and args.overwrite:
        raise InputError("--resume redoes only incomplete photos; --overwrite redoes all: choose one")
    plan = ray_plan(args)
    if plan is not None:
        from engine.batch.ray_pool import import_ray

        import_ray()  # not installed: say so before any work
    if args.report is not None:
        refuse_overwrite(args.report, overwrite=True)
    n_inputs = len(images) + len(problems)
    for _, msg in problems:
        print(f"facelift: error: {msg}", file=sys.stderr)
    if not images:
        return 2 if n_inputs == 1 else 1

    # Outputs that exist (and may not be replaced) are refused before any model loads.
    jobs, settled = plan_jobs(images, args, settings)
    n_failed = len(problems) + sum(o.status == "failed" for o in settled)
    if not jobs:
        if args.report is not None:
            write_report(args.report, BatchProgress([], settled, bar=False).report(_REPORT_HEAD))
        if n_failed:
            print(f"facelift: {n_failed} of {n_inputs} inputs failed", file=sys.stderr)
            return 2 if n_inputs == 1 else 1
        print(f"facelift: all {len(settled)} photos are complete already (--resume)", file=sys.stderr)
        return 0

    probe_writable(args.output)  # an unwritable destination fails now, not after the run (exit 2)
    config = _chosen_engine(args)
    progress = BatchProgress(jobs, settled)
    try:
        if plan is not None:
            from engine.batch.ray_pool import run_on_ray

            run_on_ray(config, settings, jobs, progress.finish, plan, args.debug, progress.note)
        else:
            run_serial(PhotoWorker(config, settings, debug=args.debug, threads=threads), jobs, progress)
    finally:
        progress.close()
        if len(jobs) + len(settled) > 1:
            print(progress.summary(), file=sys.stderr)
        if args.report is not None:
            write_report(args.report, progress.report({**_REPORT_HEAD, "engine": config.engine}))
    n_failed = len(problems) + len(progress.failed)
    if n_failed:
        print(f"facelift: {n_failed} of {n_inputs} inputs failed", file=sys.stderr)
        return 2 if n_inputs == 1 else 1
    return 0


_REPORT_HEAD = {"command": "reconstruct"}


def plan_jobs(
    images: list[Path], args: argparse.Namespace, settings: PhotoSettings
) -> tuple[list[Job], list[Outcome]]:
    """(photos to run, photos settled already): with --resume a photo whose outputs are complete
    is skipped and any other is redone (its stale staging folders removed, its outputs replaced);
    without it, existing outputs are refused (one line) unless --overwrite."""
    from engine.batch.complete import is_complete
    from engine.outputs import check_can_write, remove_staging

    jobs: list[Job] = []
    settled: list[Outcome] = []
    for index, (path, name) in enumerate(zip(images, output_names(images))):
        job = Job(index, path, args.output / name, overwrite=args.overwrite or args.resume)
        if args.resume:
            if is_complete(job.out_dir, settings.signature(), path):
                settled.append(Outcome(job, "skipped"))
                continue
            remove_staging(job.out_dir)
        try:
            check_can_write(job.out_dir, job.overwrite)
        except FaceLiftError as exc:
            line = name_file(path, str(exc))
            settled.append(Outcome(job, "failed", error=line))
            print(f"facelift: error: {line}", file=sys.stderr)
            continue
        jobs.append(job)
    skipped = sum(o.status == "skipped" for o in settled)
    if skipped:
        print(
            f"facelift: --resume: {skipped} of {len(images)} photos complete already, skipped",
            file=sys.stderr,
        )
    return jobs, settled


def _chosen_engine(args: argparse.Namespace) -> EngineConfig:
    """Choose the engine once, here (which engine, which weights), and say which; the workers
    all get this concrete config."""
    from engine.engines import make_engine

    config = engine_config(args)
    engine = make_engine(config)
    chosen = engine.describe()
    if config.engine is None and engine.name == "instant":  # chosen because no weights were found
        chosen += f"; {WEIGHTS_HINT}"
    print(f"facelift: using the {chosen}", file=sys.stderr)
    own = getattr(engine, "config", None)
    if isinstance(own, EngineConfig):
        return own
    return replace(config, engine=engine.name)  # type: ignore[arg-type]
