"""Mesh files: a ``trimesh.Trimesh`` with vertex colours and/or a UV texture -> GLB or OBJ.

* ``.glb`` -- one binary glTF 2.0 file (trimesh's exporter): positions, normals, ``COLOR_0``
  vertex colours (RGBA uint8) and/or ``TEXCOORD_0`` + a PNG base-colour texture in the file.
* ``.obj`` -- Wavefront OBJ. Vertex colours are written as ``v x y z r g b`` (the extension
  Blender, MeshLab and trimesh read). A textured mesh also writes ``STEM.mtl`` and
  ``STEM_texture.png`` beside it (``mtllib`` / ``map_Kd`` name them relative to the OBJ), with a
  white diffuse factor so viewers that multiply ``Kd`` by the texture show its true colours.

Nothing here chooses an orientation: the mesh is written in the frame it is given (glTF's
convention is +Y up; see engine/io/export.py for turning FaceLift's z-up world into it).

Writes are atomic: every file goes to a hidden temp name in the destination folder first and
is renamed only when all of them are complete (the OBJ last, so a reader never finds an OBJ
whose MTL is missing). A failure removes the temp files and leaves existing files untouched.
Problems are one-line :class:`engine.api.OutputError` / :class:`engine.api.InputError` naming
the file. trimesh is imported only when a mesh is written.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.errors import InputError, OutputError
from engine.io.atomic import atomic_write, refuse_overwrite

if TYPE_CHECKING:
    import trimesh

MESH_SUFFIXES: tuple[str, ...] = (".glb", ".obj")
"""File suffixes (lower case) :func:`save_mesh` writes."""


def mesh_sidecars(path: str | os.PathLike[str]) -> list[Path]:
    """The files an OBJ export of a textured mesh writes beside ``path``: [STEM.mtl, STEM_texture.png]."""
    p = Path(path)
    stem = p.name[: -len(p.suffix)] if p.suffix else p.name
    return [p.with_name(f"{stem}.mtl"), p.with_name(f"{stem}_texture.png")]


def save_mesh(mesh: trimesh.Trimesh, path: str | os.PathLike[str], *, overwrite: bool = True) -> list[Path]:
    """Write ``mesh`` as ``path`` (.glb or .obj, by suffix); return every file written.

    mesh: a trimesh.Trimesh with V vertices and F triangles, float positions (V,3), faces (F,3)
    int; visuals either vertex colours (V,4) uint8 or TextureVisuals (uv (V,2) in [0,1] and a
    PIL image). overwrite=False refuses (OutputError) when any file it would write exists.
    """
    import trimesh

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in MESH_SUFFIXES:
        raise InputError(f"{path}: unknown mesh format {suffix or '(none)'}; use .glb or .obj")
    if not isinstance(mesh, trimesh.Trimesh):
        raise InputError(f"{path}: expected a triangle mesh, got {type(mesh).__name__}")
    if len(mesh.faces) == 0:
        raise InputError(f"{path}: the mesh has no triangles; nothing to write")
    if suffix == ".glb":
        files = {path: _glb_bytes(mesh)}
    else:
        files = _obj_files(mesh, path)
    for target in files:
        refuse_overwrite(target, overwrite)
    _write_all(files)
    return list(files)


def _textured(mesh: trimesh.Trimesh) -> bool:
    visual = mesh.visual
    return (
        getattr(visual, "kind", None) == "texture"
        and getattr(visual, "uv", None) is not None
        and getattr(getattr(visual, "material", None), "image", None) is not None
    )


def _glb_bytes(mesh: trimesh.Trimesh) -> bytes:
    import trimesh

    data = trimesh.exchange.gltf.export_glb(trimesh.Scene(mesh))
    return bytes(data)


def _obj_files(mesh: trimesh.Trimesh, path: Path) -> dict[Path, bytes]:
    """{file: bytes} for an OBJ export: the OBJ last (renamed last), sidecars before it."""
    from trimesh.exchange.obj import export_obj

    if not _textured(mesh):
        text = export_obj(mesh, include_color=True, include_texture=False, header=None)
        return {path: text.encode("utf-8")}
    mtl_path, png_path = mesh_sidecars(path)
    named = _with_material_name(mesh, png_path.stem)
    text, extra = export_obj(
        named, include_texture=True, return_texture=True, mtl_name=mtl_path.name, header=None
    )
    pngs = [name for name in extra if name.lower().endswith(".png")]
    if mtl_path.name not in extra or pngs != [png_path.name]:
        raise OutputError(
            f"{path}: the OBJ exporter named its material files {sorted(extra)}, not as expected"
        )
    return {png_path: extra[png_path.name], mtl_path: extra[mtl_path.name], path: text.encode("utf-8")}


def _with_material_name(mesh: trimesh.Trimesh, name: str) -> trimesh.Trimesh:
    """A shallow copy of a textured mesh whose material is ``name`` (so its image is NAME.png),
    white diffuse, no ambient or specular tint."""
    import trimesh

    visual: Any = mesh.visual  # TextureVisuals (checked by _textured)
    material = trimesh.visual.material.SimpleMaterial(
        image=visual.material.image,
        diffuse=(255, 255, 255, 255),
        ambient=(0, 0, 0, 255),
        specular=(0, 0, 0, 255),
        name=name,
    )
    out = trimesh.Trimesh(vertices=mesh.vertices, faces=mesh.faces, process=False)
    out.visual = trimesh.visual.TextureVisuals(uv=visual.uv, material=material)
    return out


def _write_all(files: dict[Path, bytes]) -> None:
    """Write every file to a temp name, then rename them in ``files`` order; all or nothing.

    Contexts are entered in reverse so the ExitStack (last in, first out) renames in order. If
    a rename fails, the temps not yet renamed are removed by their own contexts, and files this
    call created before the failure are removed here.
    """
    existed = {target: os.path.lexists(target) for target in files}
    try:
        with contextlib.ExitStack() as stack:
            temps = {target: stack.enter_context(atomic_write(target)) for target in reversed(files)}
            for target, tmp in temps.items():
                tmp.write_bytes(files[target])
    except BaseException:
        for target, was_there in existed.items():
            if not was_there:
                with contextlib.suppress(OSError):
                    target.unlink()
        raise


def load_mesh(path: str | os.PathLike[str]) -> trimesh.Trimesh:
    """Read a .glb / .obj written by :func:`save_mesh` (or any trimesh reads) as one Trimesh."""
    import trimesh

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        loaded: Any = trimesh.load(str(path), force="mesh", process=False)
    except Exception as exc:  # trimesh raises many kinds; the user needs one line
        raise InputError(f"{path}: cannot read as a mesh ({type(exc).__name__}: {exc})") from None
    if not isinstance(loaded, trimesh.Trimesh) or len(loaded.faces) == 0:
        raise InputError(f"{path}: holds no triangle mesh")
    return loaded
