"""``facelift export HEAD -o OUT.(ply|compressed.ply|spz|splat|glb|obj)``: one head, any format.

HEAD is any Gaussians file the app reads (3DGS / compressed PLY, SPZ, .splat) or a
reconstruction folder (``OUT/<stem>`` of ``facelift reconstruct``: its gaussians.ply, and its
mesh.glb for mesh formats when the engine made one -- ``--triangles`` and ``--texture`` then do
not apply, they shape a mesh fused from the Gaussians). The format follows OUT's suffix; see
engine/io/formats.py for each format's frame and defaults.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.api import ProgressEvent
from engine.errors import InputError
from engine.io.formats import FORMATS

_FILTER_KEYS = ("opacity", "scale", "floater", "crop")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    suffixes = "|".join(f.suffix.lstrip(".") for f in FORMATS)
    parser.add_argument("head", type=Path, metavar="HEAD", help="Gaussians file or reconstruction folder")
    parser.add_argument("-o", "--output", type=Path, required=True, help=f"OUT.({suffixes})")
    parser.add_argument(
        "--up",
        choices=("z", "y"),
        default=None,
        help="z: FaceLift's frame; y: y up, face toward +z (default: the format's own; spz, glb: y only)",
    )
    parser.add_argument("--flavour", choices=("facelift", "inria"), default="facelift", help="PLY layout")
    parser.add_argument(
        "--filter",
        default="none",
        metavar="SPEC",
        help="none (default), facelift (the reference's filters) or e.g. "
        "opacity=0.04,scale=0.1,floater=0.6,crop=-0.9:0.9:-0.9:0.9:-1:1",
    )
    parser.add_argument(
        "--triangles", type=int, default=100_000, help="mesh triangle budget (default 100000)"
    )
    parser.add_argument(
        "--texture", type=int, default=0, metavar="PX", help="mesh: bake a PX x PX UV texture"
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output file")


def parse_filter(spec: str) -> dict[str, object] | None:
    """``--filter`` text -> keyword arguments of Gaussians.filter, or None for no filtering."""
    text = spec.strip().lower()
    if text == "none":
        return None
    if text == "facelift":
        return {}
    out: dict[str, object] = {
        "opacity_thres": None,
        "scaling_thres": None,
        "floater_thres": None,
        "crop_bbx": None,
    }
    names = {
        "opacity": "opacity_thres",
        "scale": "scaling_thres",
        "floater": "floater_thres",
        "crop": "crop_bbx",
    }
    for part in text.split(","):
        key, _, value = part.partition("=")
        key = key.strip()
        if key not in names or not value:
            raise InputError(
                f"--filter: {part.strip()!r} is not none, facelift or {'|'.join(_FILTER_KEYS)}=VALUE"
            )
        try:
            numbers = [float(v) for v in value.split(":")]
        except ValueError:
            raise InputError(f"--filter: {part.strip()!r} needs a number") from None
        if (key == "crop") != (len(numbers) == 6) or (key != "crop" and len(numbers) != 1):
            raise InputError(
                f"--filter: {key} takes {'6 numbers a:b:c:d:e:f' if key == 'crop' else 'one number'}"
            )
        out[names[key]] = numbers if key == "crop" else numbers[0]
    return out


def run(args: argparse.Namespace) -> int:
    from engine.io.atomic import probe_writable, refuse_overwrite
    from engine.io.formats import export_head, format_of, resolve_head, resolve_up
    from engine.io.gaussians_file import load_gaussians

    out: Path = args.output
    fmt = format_of(out)
    resolve_up(fmt, args.up, out)
    refuse_overwrite(out, args.overwrite)
    probe_writable(out.parent)
    filters = parse_filter(args.filter)
    mesh_options = None
    if fmt.mesh:
        from engine.mesh.fuse import MeshOptions

        mesh_options = MeshOptions(triangles=args.triangles, texture_size=args.texture)
    source, own_mesh_file = resolve_head(args.head)
    gaussians = load_gaussians(source)
    if filters is not None:
        gaussians = gaussians.filter(**filters)  # type: ignore[arg-type]
    if len(gaussians) == 0:
        raise InputError(f"{source}: no Gaussians to export (after --filter {args.filter})")
    own_mesh = None
    if fmt.mesh and own_mesh_file is not None:
        from engine.io.mesh_file import load_mesh

        own_mesh = load_mesh(own_mesh_file)
    written = export_head(
        gaussians,
        out,
        up=args.up,
        flavour=args.flavour,
        mesh=own_mesh,
        mesh_options=mesh_options,
        overwrite=args.overwrite,
        on_progress=_progress_bar(out) if fmt.mesh and own_mesh is None else _quiet,
    )
    for path in written:
        print(f"wrote {path}", file=sys.stderr)
    return 0


def _quiet(_event: ProgressEvent) -> None:
    pass


def _progress_bar(out: Path):  # type: ignore[no-untyped-def]
    """A tqdm bar on stderr following the mesh stage's events."""
    from tqdm import tqdm

    bar = tqdm(total=1, unit="step", file=sys.stderr, desc=out.name, leave=False)

    def on_progress(ev: ProgressEvent) -> None:
        if ev.total:
            bar.total = ev.total
            bar.n = ev.step
            bar.set_postfix_str(ev.message, refresh=False)
            bar.refresh()
        if ev.total and ev.step >= ev.total:
            bar.close()

    return on_progress
