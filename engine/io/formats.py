"""Every export format of a head, in one table: name, suffix, frame, expected size, writer.

=================== ================ ======== ===================================================
format              suffix           up       what it is
=================== ================ ======== ===================================================
ply                 .ply             z (y)    3DGS PLY, FaceLift's layout (or INRIA's, flavour)
compressed.ply      .compressed.ply  z (y)    PlayCanvas / SuperSplat chunked, quantised PLY
spz                 .spz             RUB      Niantic SPZ v2 (gzip); the format fixes its frame
splat               .splat           z (y)    antimatter15 .splat, 32 bytes per Gaussian
glb                 .glb             y        binary glTF mesh; glTF fixes +Y up
obj                 .obj             y (z)    Wavefront OBJ mesh (+ .mtl and a PNG if textured)
=================== ================ ======== ===================================================

"up" is the default; the one in brackets may be chosen instead. Formats without a convention
(PLY, .splat, OBJ) take ``up`` ("z": FaceLift's world, z up; "y": y up, face toward +Z, see
engine/io/export.py). SPZ and glTF define their frame, so they refuse ``up="z"``.

Mesh formats write the head's own mesh when it has one (e.g. the instant engine's fitted
mesh, passed as ``mesh=``, or ``mesh.glb`` in a reconstruction folder) and otherwise fuse one
from the Gaussians (engine/mesh/fuse.py), which takes a while: pass ``on_progress`` / ``cancel``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from engine.api import CancelToken, ProgressCallback, no_progress
from engine.errors import InputError
from engine.gaussians import Gaussians

if TYPE_CHECKING:
    import trimesh

    from engine.mesh.fuse import MeshOptions

Up = Literal["z", "y"]
Flavour = Literal["facelift", "inria"]


@dataclass(frozen=True)
class ExportFormat:
    """One row of the table above."""

    name: str
    suffix: str
    label: str
    mesh: bool
    default_up: Up
    fixed_up: bool

    def file_filter(self) -> str:
        """A Qt/GTK file-dialog filter, e.g. ``SPZ (Niantic) (*.spz)``."""
        return f"{self.label} (*{self.suffix})"


FORMATS: tuple[ExportFormat, ...] = (
    ExportFormat("ply", ".ply", "PLY (3DGS)", False, "z", False),
    ExportFormat(
        "compressed.ply", ".compressed.ply", "Compressed PLY (PlayCanvas, SuperSplat)", False, "z", False
    ),
    ExportFormat("spz", ".spz", "SPZ (Niantic)", False, "y", True),
    ExportFormat("splat", ".splat", "splat (antimatter15)", False, "z", False),
    ExportFormat("glb", ".glb", "glTF binary mesh", True, "y", True),
    ExportFormat("obj", ".obj", "OBJ mesh", True, "y", False),
)
FORMAT_NAMES: tuple[str, ...] = tuple(f.name for f in FORMATS)
HEAD_GAUSSIANS_NAME = "gaussians.ply"
"""A reconstruction folder's Gaussians (engine/outputs.py writes it)."""
HEAD_MESH_NAME = "mesh.glb"
"""A reconstruction folder's own head mesh (FaceLift frame), when its engine made one."""


def format_named(name: str) -> ExportFormat:
    """The format called ``name`` (ply, compressed.ply, spz, splat, glb, obj; a leading dot is fine)."""
    key = name.lower().lstrip(".")
    for fmt in FORMATS:
        if fmt.name == key:
            return fmt
    raise InputError(f"unknown export format {name!r}; choose one of {', '.join(FORMAT_NAMES)}")


def format_of(path: str | os.PathLike[str]) -> ExportFormat:
    """The format a file name asks for, by its (longest) suffix."""
    name = Path(path).name.lower()
    for fmt in sorted(FORMATS, key=lambda f: -len(f.suffix)):
        if name.endswith(fmt.suffix):
            return fmt
    suffixes = ", ".join(f.suffix for f in FORMATS)
    raise InputError(f"{path}: unknown export format {Path(path).suffix or '(no suffix)'}; use {suffixes}")


def resolve_up(fmt: ExportFormat, up: str | None, where: str | os.PathLike[str] = "") -> Up:
    """The up axis to write ``fmt`` with: ``up`` or the format's default; InputError when the
    format fixes another."""
    if up is None:
        return fmt.default_up
    if up not in ("z", "y"):
        raise InputError(f"unknown up axis {up!r}; choose z or y")
    if fmt.fixed_up and up != fmt.default_up:
        frame = "RUB, y up" if fmt.name == "spz" else "+Y up"
        raise InputError(
            f"{where or fmt.name}: {fmt.name} files are {frame} by definition; --up {up} does not apply"
        )
    return "y" if up == "y" else "z"


def resolve_head(head: str | os.PathLike[str]) -> tuple[Path, Path | None]:
    """(the Gaussians file, the head's own mesh file or None) of HEAD: a Gaussians file (no own
    mesh), or a reconstruction folder (its gaussians.ply and mesh.glb, or the one reconstruction
    inside it). ``facelift export`` and the window's Open Gaussians both ask this."""
    head = Path(head)
    if not head.is_dir():
        return head, None
    direct = head / HEAD_GAUSSIANS_NAME
    if direct.is_file():
        mesh = head / HEAD_MESH_NAME
        return direct, mesh if mesh.is_file() else None
    inside = sorted(p.parent for p in head.glob(f"*/{HEAD_GAUSSIANS_NAME}"))
    if len(inside) == 1:
        return resolve_head(inside[0])
    if inside:
        names = ", ".join(str(p) for p in inside[:3]) + (", ..." if len(inside) > 3 else "")
        raise InputError(f"{head}: holds {len(inside)} reconstructions; name one ({names})")
    raise InputError(f"{head}: not a reconstruction folder (no {HEAD_GAUSSIANS_NAME} in it)")


# ---- expected sizes ------------------------------------------------------------------

SPZ_BYTES_PER_GAUSSIAN = 13.0
"""Measured (bench/export.py, 1.5 M FaceLift-style head, SH degree 0): gzip leaves about 13 of
the 19 raw bytes; degree > 0 adds its raw SH bytes times the same ratio."""
MESH_BYTES_PER_TRIANGLE = {"glb": 28.0, "obj": 62.0}
"""Measured on fused heads: a vertex per two triangles, GLB positions + normals + colours +
indices, OBJ as text."""


def expected_size(
    fmt: ExportFormat,
    g: Gaussians,
    flavour: Flavour = "facelift",
    triangles: int = 100_000,
    texture_size: int = 0,
) -> int:
    """Bytes a file of ``g`` in ``fmt`` takes: exact for PLY, compressed PLY and .splat, an
    estimate for SPZ (compressed) and meshes (the triangle budget; a texture as ~1.5 bytes per
    texel of PNG)."""
    n, k = len(g), g.sh_rest.shape[1]
    if fmt.name == "ply":
        coeffs = max(k, 15) if flavour == "facelift" else k
        per = 12 + (3 if flavour == "facelift" else 12) + 12 + 12 * coeffs + 4 + 12 + 16
        return 300 + 30 * coeffs + n * per
    if fmt.name == "compressed.ply":
        return 800 + 30 * 3 * k + -(-n // 256) * 72 + n * (16 + 3 * k)
    if fmt.name == "splat":
        return 32 * n
    if fmt.name == "spz":
        return int(16 + n * (SPZ_BYTES_PER_GAUSSIAN + 3 * k * SPZ_BYTES_PER_GAUSSIAN / 19.0))
    texture = int(1.5 * texture_size * texture_size)
    return int(triangles * MESH_BYTES_PER_TRIANGLE[fmt.name]) + texture


# ---- writing -------------------------------------------------------------------------


def _mesh_in_frame(mesh: trimesh.Trimesh, up: Up) -> trimesh.Trimesh:
    from engine.io.export import Y_UP_ROTATION

    if up == "z":
        return mesh
    turned = mesh.copy()
    transform = np.eye(4)
    transform[:3, :3] = Y_UP_ROTATION
    turned.apply_transform(transform)
    return turned


def export_head(
    g: Gaussians,
    path: str | os.PathLike[str],
    *,
    up: str | None = None,
    flavour: Flavour = "facelift",
    mesh: trimesh.Trimesh | None = None,
    mesh_options: MeshOptions | None = None,
    overwrite: bool = True,
    on_progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> list[Path]:
    """Write the head (Gaussians ``g`` in FaceLift's frame) as ``path`` in the format its suffix
    names; return the files written (an OBJ with a texture writes three).

    ``mesh``: the head's own mesh (FaceLift frame) for .glb / .obj; fused from ``g`` when None.
    Raises InputError (unknown suffix, a frame the format cannot take) or OutputError (an
    existing file without ``overwrite``, an unwritable folder), each one line; nothing partial
    is left behind.
    """
    from engine.io.atomic import refuse_overwrite

    path = Path(path)
    fmt = format_of(path)
    axis = resolve_up(fmt, up, path)
    refuse_overwrite(path, overwrite)
    if fmt.mesh:
        from engine.io.mesh_file import save_mesh

        if mesh is None:
            from engine.mesh.fuse import head_mesh

            mesh = head_mesh(g, mesh_options, on_progress, cancel)
        if cancel is not None:
            cancel.raise_if_cancelled()
        return save_mesh(_mesh_in_frame(mesh, axis), path, overwrite=overwrite)
    _GAUSSIAN_WRITERS[fmt.name](g, path, axis, flavour)
    return [path]


def _write_ply(g: Gaussians, path: Path, up: Up, flavour: Flavour) -> None:
    from engine.io.export import export_ply

    export_ply(g, path, flavour=flavour, up=up)


def _write_compressed(g: Gaussians, path: Path, up: Up, _flavour: Flavour) -> None:
    from engine.io.compressed_ply import save_compressed_ply
    from engine.io.export import orient

    save_compressed_ply(orient(g, up), path)


def _write_spz(g: Gaussians, path: Path, _up: Up, _flavour: Flavour) -> None:
    from engine.io.spz import save_spz

    save_spz(g, path)


def _write_splat(g: Gaussians, path: Path, up: Up, _flavour: Flavour) -> None:
    from engine.io.export import export_splat

    export_splat(g, path, up=up)


_GAUSSIAN_WRITERS: dict[str, Callable[[Gaussians, Path, Up, Flavour], None]] = {
    "ply": _write_ply,
    "compressed.ply": _write_compressed,
    "spz": _write_spz,
    "splat": _write_splat,
}
