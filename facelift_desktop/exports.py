"""What the Export menu writes: thin wrappers over engine.io.export and engine.io.images.

Every writer refuses to overwrite unless told, and writes to a temp name beside the target
that is renamed at the end (engine.io.atomic), so a failed export leaves no partial file.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np

from engine.api import InputError, OutputError
from engine.gaussians import Gaussians
from engine.geometry import VIEW_NAMES
from engine.io.atomic import atomic_write, refuse_overwrite


def export_ply(
    gaussians: Gaussians,
    path: Path | str,
    flavour: str = "facelift",
    up_axis: str = "z",
    overwrite: bool = False,
) -> Path:
    """Write a 3DGS PLY in the chosen flavour and up axis ("z" FaceLift, "y" viewers) (engine.io.export)."""
    from engine.io import export

    path = refuse_overwrite(path, overwrite)
    export.export_ply(gaussians, path, flavour=flavour, up=up_axis)  # type: ignore[arg-type]
    return path


def export_splat(gaussians: Gaussians, path: Path | str, up_axis: str = "z", overwrite: bool = False) -> Path:
    """Write an antimatter15 .splat file (engine.io.export)."""
    from engine.io import export

    path = refuse_overwrite(path, overwrite)
    export.export_splat(gaussians, path, up=up_axis)  # type: ignore[arg-type]
    return path


def export_png(image: np.ndarray, path: Path | str, overwrite: bool = False) -> Path:
    """Write an (H,W,3) uint8 image as PNG."""
    from engine.io.images import save_png

    path = refuse_overwrite(path, overwrite)
    save_png(np.ascontiguousarray(image, dtype=np.uint8), path)
    return path


def export_views(
    views: np.ndarray, folder: Path | str, stem: str = "view", overwrite: bool = False
) -> list[Path]:
    """Write the six views as ``<stem>_<index>_<name>.png`` into ``folder``; all or none.

    Every view is written to its own temp name first; only when all are written are they renamed
    into place, so a failure (disk full, no permission) leaves the earlier files untouched.
    """
    from engine.io.images import save_png

    folder = Path(folder)
    if not folder.is_dir():
        raise OutputError(f"{folder}: folder not found")
    paths = [folder / f"{stem}_{i}_{name}.png" for i, name in enumerate(VIEW_NAMES[: len(views)])]
    for p in paths:
        refuse_overwrite(p, overwrite)
    with contextlib.ExitStack() as stack:
        temps = [stack.enter_context(atomic_write(p)) for p in paths]
        for view, tmp, p in zip(views, temps, paths):
            try:
                save_png(np.ascontiguousarray(view, dtype=np.uint8), tmp)
            except OutputError as exc:  # name the view, not its temp file
                raise OutputError(exc.message.replace(str(tmp), str(p))) from exc
    return paths


def load_gaussians(path: Path | str) -> Gaussians:
    """Open a .ply / .splat file for the viewer; InputError (one line) when unusable or empty."""
    from engine.io.gaussians_file import load_gaussians as load

    gaussians = load(path)
    if len(gaussians) == 0:
        raise InputError(f"{path}: the file holds no Gaussians")
    return gaussians
