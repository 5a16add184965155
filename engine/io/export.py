"""Exports of a Gaussian head: PLY (FaceLift or INRIA flavour, z-up or y-up), .splat, PNG snapshot,
turntable video (MP4/GIF). The renders come from engine.render, imported when needed (engine.render
itself never imports engine.io).

Orientation. FaceLift's world is z-up with the face looking toward -Y. Most splat viewers
(three.js-based web viewers, SuperSplat after its own flip, Blender's glTF importer, ...) expect
y-up with the subject facing +Z. ``up="y"`` applies the rotation

    R = [[1, 0, 0],        x' =  x
         [0, 0, 1],        y' =  z      (FaceLift up -> viewer up)
         [0,-1, 0]]        z' = -y      (the face, toward -Y, now looks toward +Z)

i.e. -90 degrees about +X (a proper rotation, det +1), unit quaternion
q_R = (w,x,y,z) = (cos 45 deg, -sin 45 deg, 0, 0). Every Gaussian is rotated as a rigid body:
centres x' = R x, orientations q' = q_R * q (Hamilton product, so the covariance becomes
R Sigma R^T), scales and opacities unchanged, and view-dependent colour rotated with it:
SH bands 1..3 are re-expressed so that colour'(R d) = colour(d) for every direction d.
SH degree 4 is refused (no export needs it; FaceLift's model is degree 0).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import numpy as np

from engine.api import CancelToken, ProgressCallback, no_progress
from engine.cameras import CameraSet, view_camera
from engine.errors import InputError
from engine.gaussians import Gaussians
from engine.geometry import ORBIT_RADIUS, matrix_to_quat, quat_multiply
from engine.settings import RENDER_SIZE, TURNTABLE_ELEVATION, TURNTABLE_FPS, TURNTABLE_FRAMES
from engine.sh import sh_bands

UpAxis = Literal["z", "y"]

Y_UP_ROTATION = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])
"""(3,3) float64: FaceLift z-up world -> y-up (face toward +Z) world."""

# ---- rotating real spherical harmonics --------------------------------------------------


def sh_basis(dirs: np.ndarray, degree: int) -> np.ndarray:
    """(M, (degree+1)^2 - 1) float64 values of the 3DGS real SH basis, bands 1..degree, at unit
    dirs (M,3) (engine.sh.sh_bands: coefficient k of ``sh_rest`` multiplies column k)."""
    x, y, z = (dirs[:, i].astype(np.float64) for i in range(3))
    cols = sh_bands(x, y, z, degree)
    return np.stack(cols, axis=1) if cols else np.zeros((len(dirs), 0))


def sh_rotation_matrices(R: np.ndarray, degree: int) -> list[np.ndarray]:
    """Per band l = 1..degree, the (2l+1, 2l+1) matrix D_l with c'_l = D_l c_l, such that the
    rotated function satisfies f'(R d) = f(d). Solved exactly (least squares on 64 directions;
    each band is closed under rotation, so the fit has zero residual up to rounding)."""
    if degree > 3:
        raise InputError(f"rotating SH degree {degree} is not supported (degree 3 at most); export with up=z")
    rng = np.random.default_rng(0)
    d = rng.normal(size=(64, 3))
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    B = sh_basis(d, degree)  # Y(d)
    A = sh_basis(d @ np.asarray(R, dtype=np.float64), degree)  # rows: Y(R^T d)
    out = []
    start = 0
    for band in range(1, degree + 1):
        n = 2 * band + 1
        sl = slice(start, start + n)
        out.append(np.linalg.lstsq(B[:, sl], A[:, sl], rcond=None)[0])
        start += n
    return out


def rotate_gaussians(g: Gaussians, R: np.ndarray) -> Gaussians:
    """``g`` rotated rigidly about the origin by the proper rotation ``R`` (3,3).

    xyz' = R xyz; quats' = q_R * quats (keeps each quaternion's norm, so stored values stay
    comparable); log_scales, opacity and SH DC unchanged; SH bands 1..3 rotated (degree 4 refused).
    """
    R = np.asarray(R, dtype=np.float64)
    if R.shape != (3, 3) or not np.allclose(R @ R.T, np.eye(3), atol=1e-9) or np.linalg.det(R) < 0:
        raise InputError("rotation must be a proper 3x3 rotation matrix")
    rest = g.sh_rest.astype(np.float64)
    if g.sh_degree > 0:
        blocks = []
        start = 0
        for D in sh_rotation_matrices(R, g.sh_degree):
            n = D.shape[0]
            blocks.append(np.einsum("ji,nic->njc", D, rest[:, start : start + n]))
            start += n
        rest = np.concatenate(blocks, axis=1)
    return g.replace(
        xyz=(g.xyz.astype(np.float64) @ R.T).astype(np.float32),
        quats=quat_multiply(matrix_to_quat(R), g.quats).astype(np.float32),
        sh_rest=rest.astype(np.float32),
    )


def orient(g: Gaussians, up: UpAxis) -> Gaussians:
    """``g`` in the requested up convention: "z" = FaceLift's frame as is, "y" = rotated (module doc)."""
    if up == "z":
        return g
    if up == "y":
        return rotate_gaussians(g, Y_UP_ROTATION)
    raise InputError(f"unknown up axis {up!r}; choose z or y")


# ---- file exports ------------------------------------------------------------------------


def export_ply(
    g: Gaussians,
    path: str | os.PathLike[str],
    *,
    flavour: Literal["facelift", "inria"] = "facelift",
    up: UpAxis = "z",
) -> None:
    """Write a PLY (engine.io.ply flavours) in the requested up convention, atomically."""
    from engine.io.ply import save_ply

    save_ply(orient(g, up), Path(path), flavour=flavour)


def export_splat(g: Gaussians, path: str | os.PathLike[str], *, up: UpAxis = "z") -> None:
    """Write an antimatter15 .splat (engine.io.splat) in the requested up convention, atomically."""
    from engine.io.splat import save_splat

    save_splat(orient(g, up), path)


def render_snapshot(
    g: Gaussians,
    camera: CameraSet,
    background: tuple[float, float, float] = (1.0, 1.0, 1.0),
) -> np.ndarray:
    """(H,W,3) uint8 render of ``g`` from the first camera of ``camera``."""
    from engine.render import render, to_uint8

    res = render(g, camera.c2w[0], camera.fxfycxcy[0], camera.width, camera.height, background=background)
    return np.asarray(to_uint8(res.rgb))


def snapshot_png(
    g: Gaussians,
    path: str | os.PathLike[str],
    camera: CameraSet | None = None,
    background: tuple[float, float, float] = (1.0, 1.0, 1.0),
) -> None:
    """Render ``g`` from ``camera`` (default: the front input camera at 512 px) into a PNG, atomically."""
    from engine.io.images import save_png

    save_png(render_snapshot(g, camera or view_camera("front"), background), Path(path))


def export_gaussians(
    g: Gaussians,
    path: str | os.PathLike[str],
    *,
    up: UpAxis = "z",
    flavour: Literal["facelift", "inria"] = "facelift",
    camera: CameraSet | None = None,
) -> None:
    """Export by file suffix: .ply, .splat or .png (snapshot; ``up`` does not apply)."""
    suffix = Path(path).suffix.lower()
    if suffix == ".ply":
        export_ply(g, path, flavour=flavour, up=up)
    elif suffix == ".splat":
        export_splat(g, path, up=up)
    elif suffix == ".png":
        snapshot_png(g, path, camera)
    else:
        raise InputError(f"{path}: unknown export format {suffix or '(none)'}; use .ply, .splat or .png")


def write_turntable(
    gaussians: Gaussians,
    path: str | os.PathLike[str],
    num_frames: int = TURNTABLE_FRAMES,
    fps: float = TURNTABLE_FPS,
    elevation_deg: float = TURNTABLE_ELEVATION,
    size: int = RENDER_SIZE,
    background: tuple[float, float, float] = (1.0, 1.0, 1.0),
    lossless: bool = False,
    on_progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    *,
    backend: str = "auto",
    radius: float = ORBIT_RADIUS,
) -> Path:
    """Render the turntable (engine.render.render_turntable) and encode it to ``path`` (.mp4 or
    .gif), atomically. radius: the orbit's (a model folder's rig radius; FaceLift's 2.7).

    lossless: MP4 as the reference writes it (yuv444p, CRF 0) instead of yuv420p.
    Progress: ProgressEvent("turntable", i, num_frames) per frame. A cancel raises
    engine.api.Cancelled and leaves no file.
    """
    from engine.io.video import write_video
    from engine.render import render_turntable

    frames = render_turntable(
        gaussians,
        num_frames,
        elevation_deg,
        size,
        background,
        on_progress,
        cancel,
        backend=backend,
        radius=radius,
    )
    return write_video(
        frames, path, fps=fps, pix_fmt="yuv444p" if lossless else "yuv420p", cancel=cancel, total=num_frames
    )
