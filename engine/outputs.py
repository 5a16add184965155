"""A reconstruction's output folder, as FaceLift's inference.py writes it.

``write_outputs`` writes input.png, multiview.png (FaceLift engine only), gaussians.ply,
output.png and turntable.mp4 (and, when asked, the head in extra formats and a completion
marker), atomically as a whole; ``check_can_write`` / ``existing_outputs`` refuse to replace
earlier outputs unless asked.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from glob import escape as glob_escape
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from engine.api import CancelToken, ProgressCallback, ProgressEvent, ReconstructionResult, no_progress
from engine.cameras import CameraSet, rig_radius
from engine.errors import OutputError
from engine.gaussians import Gaussians
from engine.geometry import ORBIT_RADIUS
from engine.settings import RENDER_SIZE, TURNTABLE_FPS, TURNTABLE_FRAMES

if TYPE_CHECKING:
    import trimesh

OUTPUT_FILES: tuple[str, ...] = (
    "input.png",
    "multiview.png",
    "gaussians.ply",
    "output.png",
    "turntable.mp4",
    "mesh.glb",
)
"""Everything ``write_outputs`` may write into an output folder (multiview.png: FaceLift only;
mesh.glb = engine.io.formats.HEAD_MESH_NAME, when asked for)."""


@dataclass(frozen=True)
class OutputSpec:
    """What an output folder holds besides the PLY and the input views (``write_outputs``).

    turntable_frames: frames of turntable.mp4 (0: none) at ``fps``; render_size: the square size
    of output.png's views and of the turntable, px. formats: engine.io.formats names to write the
    filtered head in as well. mesh: also mesh.glb, the head's own (or fused) mesh.
    """

    turntable_frames: int = TURNTABLE_FRAMES
    fps: float = TURNTABLE_FPS
    render_size: int = RENDER_SIZE
    formats: tuple[str, ...] = ()
    mesh: bool = False


def extra_format_file(name: str) -> str | None:
    """The file an extra format (engine.io.formats name) is written to in an output folder:
    ``gaussians<suffix>`` for Gaussian formats, ``head<suffix>`` for meshes; None for "ply",
    which gaussians.ply already is (FaceLift flavour, z up: the export table's defaults).
    InputError for an unknown name."""
    from engine.io.formats import format_named

    fmt = format_named(name)
    if fmt.name == "ply":
        return None
    return ("head" if fmt.mesh else "gaussians") + fmt.suffix


_STAGING_MARK = ".partial-"


def remove_staging(out_dir: Path | str) -> list[Path]:
    """Remove the hidden staging folders of ``out_dir`` that a killed writer left behind
    (``write_outputs`` removes its own on any error it lives to see); returns them."""
    out = Path(out_dir)
    found = sorted(out.parent.glob(f".{glob_escape(out.name)}{_STAGING_MARK}*"))
    for folder in found:
        shutil.rmtree(folder, ignore_errors=True)
    return found


def existing_outputs(out_dir: Path | str) -> list[str]:
    """The names of OUTPUT_FILES already present in ``out_dir``."""
    out = Path(out_dir)
    return [name for name in OUTPUT_FILES if (out / name).exists()]


def check_can_write(out_dir: Path | str, overwrite: bool = False) -> None:
    """OutputError (one line) when ``out_dir`` holds earlier outputs and overwrite is off."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder")
    found = existing_outputs(out)
    if found and not overwrite:
        raise OutputError(
            f"{out}: outputs already exist ({', '.join(found)}); use --overwrite to replace them"
        )


def side_by_side(images: np.ndarray) -> np.ndarray:
    """(V,H,W,3) -> (H,V*W,3): the images pasted left to right (the reference's multiview.png)."""
    images = np.asarray(images)
    return np.ascontiguousarray(np.concatenate(list(images), axis=1))


def render_input_views(
    gaussians: Gaussians,
    size: int = RENDER_SIZE,
    background: tuple[float, float, float] = (1.0, 1.0, 1.0),
    cancel: CancelToken | None = None,
    cameras: CameraSet | None = None,
) -> np.ndarray:
    """(V,size,size,3) uint8 renders from the input cameras in view order: ``cameras`` (a model
    folder's, engine.weights.model_folder) or the six FaceLift ones."""
    from engine.cameras import facelift_cameras
    from engine.render import prepare, render, to_uint8

    cams = facelift_cameras(size) if cameras is None else cameras.scaled(size, size)
    prep, backend = prepare(gaussians)
    out = []
    for i in range(len(cams)):
        if cancel is not None:
            cancel.raise_if_cancelled()
        res = render(prep, cams.c2w[i], cams.fxfycxcy[i], size, size, background, backend)
        out.append(to_uint8(res.rgb))
    return np.stack(out)


def write_outputs(
    result: ReconstructionResult,
    out_dir: Path | str,
    spec: OutputSpec = OutputSpec(),
    *,
    overwrite: bool = False,
    on_progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    marker: Callable[[Path], Path] | None = None,
) -> dict[str, Path]:
    """Write a result's output folder; returns {file name: path}.

    Files (as FaceLift's inference.py): input.png (the preprocessed 512x512 input; skipped for a
    result opened from a file), multiview.png (the six views side by side; FaceLift engine only),
    gaussians.ply (filtered, FaceLift PLY flavour), output.png (renders from the six input cameras
    side by side, V*spec.render_size x spec.render_size, from the unfiltered set
    ``result.info["unfiltered_gaussians"]`` when present, as the reference does), turntable.mp4
    (filtered set; ``spec.turntable_frames`` frames at ``spec.fps``, render_size square, H.264
    yuv420p; 0 frames skips it). ``spec.formats``: the head in extra formats
    (:func:`extra_format_file` names the files; meshes are the head's own ``result.mesh``
    when it has one, else fused from the Gaussians, once for all mesh files). ``spec.mesh``: also
    mesh.glb, the head's own mesh (or the fused one) in the FaceLift frame (+Z up), as
    ``facelift export`` and the window read it back; an overwrite without it removes an earlier run's mesh.glb.
    ``marker``: called with the staging folder once every file is staged; it writes a
    completion marker there (engine.batch.complete) and returns its path. The marker is moved
    into place last, and an old one is removed before anything is replaced, so a marker only
    ever stands beside the complete set it lists.

    Atomic as a whole: everything is written into a hidden staging folder beside ``out_dir`` and
    moved into place only when all files are done, so a failure or a cancel
    (engine.api.Cancelled) leaves no new or partial file. Existing outputs are refused
    (OutputError) unless ``overwrite``; with ``overwrite`` a stale multiview.png from an earlier
    FaceLift run is removed when the new result has no views.
    """
    from engine.io.export import write_turntable
    from engine.io.formats import export_head, format_of
    from engine.io.images import save_png
    from engine.io.mesh_file import save_mesh
    from engine.io.ply import save_ply

    token = cancel if cancel is not None else CancelToken()
    out = Path(out_dir)
    check_can_write(out, overwrite)
    staging = out.parent / f".{out.name}{_STAGING_MARK}{secrets.token_hex(4)}"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging.mkdir()  # default permissions (mkdtemp's 0700 would stick to the renamed folder)
    except OSError as exc:
        raise OutputError(f"{out}: cannot write ({exc.strerror or exc})") from exc
    extras = [file for name in spec.formats if (file := extra_format_file(name)) is not None]
    steps = 3 + (result.input_image is not None) + (result.views is not None)
    steps += (spec.turntable_frames > 0) + len(extras) + spec.mesh
    done = 0

    def step(message: str) -> None:
        nonlocal done
        # report, then check: a cancel made on seeing "writing X" stops before X is written
        on_progress(ProgressEvent("write", done, steps, message))
        token.raise_if_cancelled()
        done += 1

    try:
        if result.input_image is not None:
            step("input.png")
            save_png(np.asarray(result.input_image, dtype=np.uint8), staging / "input.png")
        if result.views is not None:
            step("multiview.png")
            save_png(side_by_side(result.views), staging / "multiview.png")
        step("gaussians.ply")
        save_ply(result.gaussians, staging / "gaussians.ply", flavour="facelift")
        step("output.png")
        unfiltered = result.info.get("unfiltered_gaussians", result.gaussians)
        save_png(
            side_by_side(
                render_input_views(
                    unfiltered, spec.render_size, cancel=token, cameras=result.info.get("cameras")
                )
            ),
            staging / "output.png",
        )
        if spec.turntable_frames > 0:
            step("turntable.mp4")
            cams: CameraSet | None = result.info.get("cameras")
            write_turntable(
                result.gaussians,
                staging / "turntable.mp4",
                radius=ORBIT_RADIUS if cams is None else rig_radius(cams),
                num_frames=spec.turntable_frames,
                fps=spec.fps,
                size=spec.render_size,
                on_progress=on_progress,
                cancel=token,
            )
        mesh_of_head = _MeshOnce(result, on_progress, token)
        for file in extras:
            step(file)
            own = mesh_of_head() if format_of(file).mesh else None
            export_head(result.gaussians, staging / file, mesh=own, on_progress=on_progress, cancel=token)
        if spec.mesh:
            step("mesh.glb")
            save_mesh(mesh_of_head(), staging / "mesh.glb")
        marker_name = marker(staging).name if marker is not None else None
        step("moving the outputs into place")
        written = _commit(staging, out, overwrite, result.views is not None, marker_name)
    except OutputError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        # Name the file the user asked for, not the hidden staging folder that is now gone.
        raise OutputError(exc.message.replace(str(staging), str(out)), details=exc.details) from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    on_progress(ProgressEvent("write", steps, steps, f"outputs written to {out}"))
    return written


class _MeshOnce:
    """The head's mesh for every mesh file of one output folder: its own (``result.mesh``) or
    one fused from its Gaussians, fused at most once (a fusion takes minutes on a CPU)."""

    def __init__(self, result: ReconstructionResult, on_progress: ProgressCallback, cancel: CancelToken):
        self.result, self.on_progress, self.cancel = result, on_progress, cancel
        self.mesh = result.mesh

    def __call__(self) -> trimesh.Trimesh:
        if self.mesh is None:
            from engine.mesh.fuse import head_mesh

            self.mesh = head_mesh(self.result.gaussians, on_progress=self.on_progress, cancel=self.cancel)
        return self.mesh


def _commit(
    staging: Path, out: Path, overwrite: bool, has_views: bool, marker: str | None = None
) -> dict[str, Path]:
    """Move the staged files into ``out``: one rename when ``out`` is new, else file by file,
    the marker last (and an old marker first out of the way)."""
    staged = sorted(p.name for p in staging.iterdir() if p.name != marker)
    names = [n for n in OUTPUT_FILES if n in staged] + [n for n in staged if n not in OUTPUT_FILES]
    names += [marker] if marker is not None else []
    try:
        if not out.exists():
            os.rename(staging, out)
        else:
            check_can_write(out, overwrite)
            if marker is not None:
                (out / marker).unlink(missing_ok=True)
            for n in names:
                os.replace(staging / n, out / n)
            if not has_views and overwrite:
                (out / "multiview.png").unlink(missing_ok=True)
            if "mesh.glb" not in names and overwrite:  # an earlier run's mesh is not this head's
                (out / "mesh.glb").unlink(missing_ok=True)
            shutil.rmtree(staging, ignore_errors=True)
    except OSError as exc:
        raise OutputError(f"{out}: cannot move the outputs into place ({exc.strerror or exc})") from exc
    return {n: out / n for n in names}
