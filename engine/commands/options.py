"""The ``facelift`` options that more than one sub-command takes, with engine.settings' defaults.

``add_run_options`` / ``run_options``: seed, guidance, steps, sampler and the crop mode -> RunOptions.
``add_engine_options`` / ``engine_config``: weights folder, device, memory preset -> EngineConfig.
``add_turntable_options``: frames, fps, render size.
Each option's destination is the settings field's name, so one constructor builds the settings.
"""

from __future__ import annotations

import argparse
from dataclasses import fields

from engine.errors import InputError
from engine.settings import (
    DEFAULT_GUIDANCE,
    DEFAULT_SAMPLER,
    DEFAULT_SEED,
    DEFAULT_STEPS,
    DEFAULT_TARGET_RATIO,
    DEVICE_NAMES,
    FRAMING_NAMES,
    MEMORY_PRESET_NAMES,
    MEMORY_PRESETS,
    RENDER_SIZE,
    RENDER_SIZE_RANGE,
    SAMPLER_NAMES,
    SAMPLER_STEPS,
    TURNTABLE_FPS,
    TURNTABLE_FRAMES,
    EngineConfig,
    RunOptions,
)

_MEMORY_HELP = "; ".join(f"{p.name}: {p.summary}" for p in MEMORY_PRESETS.values())


def add_run_options(parser: argparse.ArgumentParser, *, reference_flags: bool = False) -> None:
    """--seed, --guidance, --steps, --sampler, --no-auto-crop | --no-preprocess | --framing. ``reference_flags`` also
    accepts FaceLift inference.py's spellings (--guidance_scale_2D, --step_2D, --auto_crop)."""
    ref = reference_flags
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="diffusion seed, per image (default %(default)s)"
    )
    parser.add_argument(
        "--guidance",
        *(["--guidance_scale_2D"] if ref else []),
        dest="guidance_scale",
        type=float,
        default=DEFAULT_GUIDANCE,
        help="classifier-free guidance scale (default %(default)s)",
    )
    parser.add_argument(
        "--steps",
        *(["--step_2D"] if ref else []),
        dest="num_steps",
        type=int,
        default=None,
        help=f"diffusion steps (default {DEFAULT_STEPS}; {SAMPLER_STEPS['fast']} with --sampler fast)",
    )
    parser.add_argument(
        "--sampler",
        choices=SAMPLER_NAMES,
        default=DEFAULT_SAMPLER,
        help="reference: FaceLift's DDIM, a seed gives the reference's views (default); fast: "
        "DPM-Solver++, good views in fewer steps, but not the reference's",
    )
    crop = parser.add_mutually_exclusive_group()
    crop.add_argument(
        "--no-auto-crop",
        dest="auto_crop",
        action="store_false",
        help="do not frame the face: use the whole photo (padded to a square)",
    )
    crop.add_argument(
        "--no-preprocess",
        dest="preprocess",
        action="store_false",
        help="take each image as an already prepared white-background head crop (e.g. a saved input.png)",
    )
    crop.add_argument(
        "--framing",
        choices=FRAMING_NAMES,
        default=None,
        help="face: find the face and frame it like FaceLift; object: no face needed, the subject's "
        f"mask (the photo's alpha, else a GrabCut matte) centred at the model's target ratio "
        f"(default {DEFAULT_TARGET_RATIO:g} x 512); none: the whole photo, padded "
        "(default: the model folder's, else face)",
    )
    if ref:
        crop.add_argument(
            "--auto_crop",
            dest="auto_crop",
            action="store_true",
            help="FaceLift's flag; auto-crop is the default anyway",
        )
    parser.set_defaults(auto_crop=RunOptions.auto_crop, preprocess=RunOptions.preprocess)


def run_options(args: argparse.Namespace) -> RunOptions:
    """The RunOptions the parsed ``add_run_options`` arguments ask for (no --steps: the
    sampler's own number of steps)."""
    chosen = {f.name: getattr(args, f.name) for f in fields(RunOptions)}
    if chosen["num_steps"] is None:
        chosen["num_steps"] = SAMPLER_STEPS[chosen["sampler"]]
    return RunOptions(**chosen)


def add_engine_options(parser: argparse.ArgumentParser, *, memory_preset: bool = True) -> None:
    """--weights, --device and (unless ``memory_preset`` is False) --memory-preset."""
    parser.add_argument(
        "--weights", dest="weights_dir", default=None, metavar="DIR", help="FaceLift weights folder"
    )
    parser.add_argument("--device", choices=DEVICE_NAMES, default=EngineConfig.device)
    if memory_preset:
        parser.add_argument(
            "--memory-preset",
            choices=MEMORY_PRESET_NAMES,
            default=EngineConfig.memory_preset,
            help=f"memory use (default %(default)s). {_MEMORY_HELP}",
        )


def engine_config(args: argparse.Namespace) -> EngineConfig:
    """The EngineConfig the parsed ``add_engine_options`` (and --engine, if any) ask for."""
    return EngineConfig(
        engine=getattr(args, "engine", None),
        weights_dir=args.weights_dir,
        device=args.device,
        memory_preset=getattr(args, "memory_preset", EngineConfig.memory_preset),
    )


def add_turntable_options(parser: argparse.ArgumentParser, *, frames_help: str = "turntable frames") -> None:
    """--frames, --fps, --size."""
    parser.add_argument(
        "--frames", type=int, default=TURNTABLE_FRAMES, help=f"{frames_help} (default %(default)s)"
    )
    parser.add_argument(
        "--fps", type=float, default=TURNTABLE_FPS, help="turntable frame rate (default %(default)s)"
    )
    parser.add_argument(
        "--size", type=int, default=RENDER_SIZE, help="render size in pixels, square (default %(default)s)"
    )


def check_render_size(size: int) -> None:
    """InputError unless ``size`` is within RENDER_SIZE_RANGE."""
    low, high = RENDER_SIZE_RANGE
    if not low <= size <= high:
        raise InputError(f"--size must be within {low}..{high}, got {size}")
