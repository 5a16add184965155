"""``facelift animate HEAD --driver VIDEO_OR_PHOTO -o OUT.mp4``: drive a head with a face video or
photo (engine.animate): head pose and expression from mediapipe's face mesh, on the CPU.

HEAD: a reconstruction folder, a Gaussians file with its rig (NAME.rig.npz beside NAME.ply, or
the folder's input.png to fit one), or a photo (reconstructed first with the instant engine).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from engine.animate.pipeline import CAMERA_MODES
from engine.animate.webcam import WEBCAM_SECONDS, record_webcam, webcam_index
from engine.api import ProgressEvent
from engine.commands.options import check_render_size
from engine.errors import InputError, OutputError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "head", type=Path, metavar="HEAD", help="reconstruction folder, PLY with its rig, or a photo"
    )
    parser.add_argument(
        "--driver",
        required=True,
        help="a face video, one photo, or a webcam: 'webcam' (camera 0), 'webcam:N' or /dev/videoN",
    )
    parser.add_argument(
        "--webcam-seconds",
        type=float,
        default=WEBCAM_SECONDS,
        metavar="S",
        help=f"how long to record a webcam driver (default {WEBCAM_SECONDS:g})",
    )
    parser.add_argument("-o", "--output", type=Path, required=True, help="OUT.mp4 (or OUT.gif)")
    parser.add_argument(
        "--camera",
        choices=CAMERA_MODES,
        default="front",
        help="front (default), orbit, or driver (follows its moves)",
    )
    parser.add_argument("--size", type=int, default=512, help="rendered size in pixels (default 512)")
    parser.add_argument("--fps", type=float, default=None, help="output frame rate (default: the driver's)")
    parser.add_argument("--side-by-side", action="store_true", help="the driver on the left of the head")
    parser.add_argument(
        "--ply-sequence", type=Path, default=None, metavar="DIR", help="also one PLY per frame"
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output")


def run(args: argparse.Namespace) -> int:
    from engine.io.atomic import refuse_overwrite

    out: Path = args.output
    if out.suffix.lower() not in (".mp4", ".gif"):
        raise InputError(f"{out}: output must end in .mp4 or .gif")
    check_render_size(args.size)
    if args.size % 2:
        raise InputError(f"--size must be even for an MP4, got {args.size}")
    refuse_overwrite(out, args.overwrite)
    seq: Path | None = args.ply_sequence
    if seq is not None and seq.exists() and any(seq.iterdir()) and not args.overwrite:
        raise OutputError(f"{seq}: folder exists and is not empty (--overwrite replaces it)")
    if not out.parent.is_dir():
        raise OutputError(f"{out}: folder {out.parent} does not exist")
    camera = webcam_index(args.driver)
    if camera is None:
        return _animate(args, Path(args.driver))
    with tempfile.TemporaryDirectory(prefix="facelift-webcam-") as folder:
        seconds = args.webcam_seconds
        print(f"recording {seconds:g} s from webcam {camera}: look at the camera", file=sys.stderr)
        clip = record_webcam(camera, Path(folder) / "webcam.mp4", seconds, _status("recording"))
        return _animate(args, clip)


def _animate(args: argparse.Namespace, driver_path: Path) -> int:
    """Track ``driver_path``, rig the head, write the animation (and the PLY sequence)."""
    from tqdm import tqdm

    from engine.animate.driver import open_driver
    from engine.animate.head_source import load_head
    from engine.animate.pipeline import motions, render_frames, track_driver
    from engine.animate.rig import bind
    from engine.io.video import VideoEncoder

    out: Path = args.output
    seq: Path | None = args.ply_sequence
    driver = track_driver(driver_path, _status("tracking the driver"))
    head = load_head(args.head, _status("preparing the head"))
    rig = bind(head.gaussians, head.landmarks)
    moves = motions(rig, driver, follow=args.camera == "driver")
    fps = float(args.fps or driver.info.fps)
    side = open_driver(driver_path)[1] if args.side_by_side else None
    staging = Path(tempfile.mkdtemp(prefix=".tmp-", dir=seq.parent)) if seq is not None else None
    try:
        with tqdm(total=len(moves), unit="frame", file=sys.stderr, desc=out.name) as bar:

            def on_progress(ev: ProgressEvent) -> None:
                bar.n = ev.step
                bar.refresh()

            save = _ply_writer(staging)
            with VideoEncoder(out, fps) as encoder:
                for frame in render_frames(
                    rig, moves, camera=args.camera, size=args.size, fps=fps,
                    driver_frames=side, on_progress=on_progress, on_gaussians=save,
                ):  # fmt: skip
                    encoder.push(frame)
        if staging is not None and seq is not None:
            if seq.exists():
                shutil.rmtree(seq)
            staging.rename(seq)
            staging = None
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    print(f"wrote {out} ({len(moves)} frames at {fps:g} fps)", file=sys.stderr)
    return 0


def _status(what: str):  # type: ignore[no-untyped-def]
    def on_progress(ev: ProgressEvent) -> None:
        if ev.step == 0 or ev.step == ev.total or (ev.total == 0 and ev.step % 25 == 0):
            print(f"{what}: {ev.message}", file=sys.stderr)

    return on_progress


def _ply_writer(folder: Path | None):  # type: ignore[no-untyped-def]
    if folder is None:
        return None
    from engine.io.ply import save_ply

    def save(i: int, g) -> None:  # type: ignore[no-untyped-def]
        save_ply(g, folder / f"frame_{i:05d}.ply")

    return save
