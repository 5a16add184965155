"""What the Export menu writes. Every writer refuses to overwrite unless told, and writes
to a temp name beside the target that is renamed at the end (engine.io.atomic), so a failed
or cancelled export leaves no partial file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.api import VIEW_NAMES, OutputError
from engine.gaussians import Gaussians
from engine.io.atomic import refuse_overwrite

# Rotations taking the FaceLift world (+Z up) to another up convention, as (3x3, quaternion wxyz).
_S = float(np.sqrt(0.5))
UP_AXES: dict[str, tuple[np.ndarray, np.ndarray]] = {
    "z": (np.eye(3), np.array([1.0, 0.0, 0.0, 0.0])),
    # -90 deg about X: (x, y, z) -> (x, z, -y), +Z becomes +Y
    "y": (np.array([[1.0, 0, 0], [0, 0, 1], [0, -1, 0]]), np.array([_S, -_S, 0.0, 0.0])),
    # +90 deg about X: (x, y, z) -> (x, -z, y), +Z becomes -Y (OpenCV y-down)
    "-y": (np.array([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]]), np.array([_S, _S, 0.0, 0.0])),
}


def _quat_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product a ⊗ b; a (4,), b (N,4), wxyz."""
    w1, x1, y1, z1 = a
    w2, x2, y2, z2 = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    return np.stack(
        [
            w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
            w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
            w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
            w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
        ],
        axis=1,
    )


def reorient(gaussians: Gaussians, up_axis: str) -> Gaussians:
    """The same Gaussians in another up convention ("z" = unchanged, "y", "-y").

    Rotates centres and orientations; colours of SH degree > 0 would need their SH rotated
    too, which is not done, so those refuse a non-"z" axis with an OutputError.
    """
    if up_axis not in UP_AXES:
        raise OutputError(f"unknown up axis {up_axis!r}; choose one of {', '.join(UP_AXES)}")
    if up_axis == "z":
        return gaussians
    if gaussians.sh_degree > 0:
        raise OutputError(
            f"up axis {up_axis}: rotating SH degree {gaussians.sh_degree} colours is not supported; export +Z up"
        )
    rot, q = UP_AXES[up_axis]
    xyz = gaussians.xyz.astype(np.float64) @ rot.T
    quats = _quat_mul(q, gaussians.quats.astype(np.float64))
    return gaussians.replace(xyz=xyz.astype(np.float32), quats=quats.astype(np.float32))


def export_ply(
    gaussians: Gaussians,
    path: Path | str,
    flavour: str = "facelift",
    up_axis: str = "z",
    overwrite: bool = False,
) -> Path:
    """Write a 3DGS PLY (engine.io.ply) in the chosen flavour and up axis."""
    from engine.io.ply import save_ply

    path = refuse_overwrite(path, overwrite)
    save_ply(reorient(gaussians, up_axis), path, flavour=flavour)  # type: ignore[arg-type]
    return path


def export_splat(gaussians: Gaussians, path: Path | str, overwrite: bool = False) -> Path:
    """Write an antimatter15 .splat file (engine.io.splat)."""
    path = refuse_overwrite(path, overwrite)
    try:
        from engine.io import splat
    except ImportError as exc:
        raise OutputError(f"{path}: .splat export is not available in this build") from exc
    splat.save_splat(gaussians, path)
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
    """Write the six views as ``<stem>_<index>_<name>.png`` into ``folder``; all or none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise OutputError(f"{folder}: folder not found")
    paths = [folder / f"{stem}_{i}_{name}.png" for i, name in enumerate(VIEW_NAMES[: len(views)])]
    for p in paths:
        refuse_overwrite(p, overwrite)
    written: list[Path] = []
    try:
        for view, p in zip(views, paths):
            written.append(export_png(view, p, overwrite=overwrite))
    except Exception:
        for p in written:
            p.unlink(missing_ok=True)
        raise
    return paths


def turntable_azimuths(count: int) -> np.ndarray:
    """VisPy azimuths of a turntable that starts at the front view and turns once (degrees).

    Same path as engine.cameras.turntable_cameras (FaceLift azimuth 270 -> 630, exclusive).
    """
    return np.linspace(0.0, 360.0, count, endpoint=False)
