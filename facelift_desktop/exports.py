"""What the window's Export writes, through the engine's writers (those of ``facelift export``).

Gaussian formats and meshes go through engine.io.formats.export_head (the format follows the
suffix; a mesh is the head's own when it has one, else fused from the Gaussians); images through
engine.io.images. Every writer refuses to overwrite unless told, and writes to a temp name beside
the target that is renamed at the end (engine.io.atomic), so a failed or cancelled export leaves
no partial file.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.api import CancelToken, InputError, OutputError, ProgressCallback
from engine.gaussians import Gaussians
from engine.geometry import VIEW_NAMES
from engine.io.atomic import atomic_write, refuse_overwrite
from facelift_desktop.jobs import TaskJob

if TYPE_CHECKING:
    from engine.mesh.fuse import MeshOptions


def export_gaussians(
    gaussians: Gaussians,
    path: Path | str,
    up_axis: str | None = None,
    flavour: str = "facelift",
    overwrite: bool = False,
) -> Path:
    """Write ``gaussians`` as the Gaussian format ``path``'s suffix names (.ply, .compressed.ply,
    .spz, .splat); ``up_axis`` "z" (FaceLift) or "y" (viewers), None: the format's own."""
    from engine.io.formats import export_head, format_of

    if format_of(path).mesh:
        raise InputError(f"{path}: a mesh format; meshes are written by a background job")
    (written,) = export_head(gaussians, path, up=up_axis, flavour=flavour, overwrite=overwrite)  # type: ignore[arg-type]
    return written


def export_ply(
    gaussians: Gaussians,
    path: Path | str,
    flavour: str = "facelift",
    up_axis: str = "z",
    overwrite: bool = False,
) -> Path:
    """Write a 3DGS PLY in the chosen flavour and up axis ("z" FaceLift, "y" viewers)."""
    return export_gaussians(gaussians, path, up_axis, flavour, overwrite)


def export_splat(gaussians: Gaussians, path: Path | str, up_axis: str = "z", overwrite: bool = False) -> Path:
    """Write an antimatter15 .splat file."""
    return export_gaussians(gaussians, path, up_axis, overwrite=overwrite)


def mesh_job(
    gaussians: Gaussians,
    path: Path | str,
    up_axis: str | None = None,
    mesh: Any = None,
    options: MeshOptions | None = None,
    overwrite: bool = False,
) -> TaskJob:
    """A job writing the head as a .glb / .obj mesh: ``mesh`` (the head's own, FaceLift frame)
    or, when None, one fused from ``gaussians`` (with progress; a cancel stops between steps).
    The target is checked before the job starts; the job's value is the list of files written."""
    from engine.io.formats import format_of, resolve_up

    fmt = format_of(path)
    if not fmt.mesh:
        raise InputError(f"{path}: not a mesh format (.glb or .obj)")
    resolve_up(fmt, up_axis, path)
    refuse_overwrite(path, overwrite)

    def work(on_progress: ProgressCallback, cancel: CancelToken) -> list[Path]:
        from engine.io.formats import export_head

        return export_head(
            gaussians,
            path,
            up=up_axis,
            mesh=mesh,
            mesh_options=options,
            overwrite=overwrite,
            on_progress=on_progress,
            cancel=cancel,
        )

    return TaskJob(work, fmt.name.upper())


def export_png(image: np.ndarray, path: Path | str, overwrite: bool = False) -> Path:
    """Write an (H,W,3) uint8 image as PNG."""
    from engine.io.images import save_png

    path = refuse_overwrite(path, overwrite)
    save_png(np.ascontiguousarray(image, dtype=np.uint8), path)
    return path


def view_paths(folder: Path, stem: str, names: tuple[str, ...] = VIEW_NAMES) -> list[Path]:
    """Where the views go: ``<folder>/<stem>_<index>_<name>.png``, one per view name."""
    return [folder / f"{stem}_{i}_{name}.png" for i, name in enumerate(names)]


def export_views(
    views: np.ndarray,
    folder: Path | str,
    stem: str = "view",
    overwrite: bool = False,
    names: tuple[str, ...] | None = None,
) -> list[Path]:
    """Write the views (V,H,W,3) uint8 as ``<stem>_<index>_<name>.png`` into ``folder``; all or none.

    names: the V view names (the model's; default FaceLift's six, else view_1..view_V).

    Every view is written to its own temp name first; only when all are written are they renamed
    into place, so a failure (disk full, no permission) leaves the earlier files untouched.
    """
    from engine.io.images import save_png

    folder = Path(folder)
    if not folder.is_dir():
        raise OutputError(f"{folder}: folder not found")
    if names is None or len(names) != len(views):
        names = (
            VIEW_NAMES if len(views) == len(VIEW_NAMES) else tuple(f"view_{i + 1}" for i in range(len(views)))
        )
    paths = view_paths(folder, stem, names)
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


def load_head(path: Path | str) -> tuple[Gaussians, Any]:
    """The Gaussians of a .ply / .compressed.ply / .spz / .splat file or a reconstruction folder,
    and the head's own mesh (a folder's mesh.glb, engine.io.formats.resolve_head) or None.
    InputError (one line) when unusable or empty."""
    from engine.io.formats import resolve_head
    from engine.io.gaussians_file import load_gaussians as load

    source, mesh_file = resolve_head(Path(path))
    gaussians = load(source)
    if len(gaussians) == 0:
        raise InputError(f"{path}: the file holds no Gaussians")
    mesh = None
    if mesh_file is not None:
        from engine.io.mesh_file import load_mesh

        mesh = load_mesh(mesh_file)
    return gaussians, mesh
