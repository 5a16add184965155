"""Opening a Gaussian-splat file of any supported format by its suffix: the one loader the
window's Open Gaussians, ``facelift render`` and ``facelift export`` share.

``.splat`` goes to :func:`engine.io.splat.load_splat`, ``.spz`` to :func:`engine.io.spz.load_spz`
(Niantic SPZ v2-v4), anything else to :func:`engine.io.ply.load_ply` (FaceLift / INRIA 3DGS PLY,
and PlayCanvas's compressed PLY, recognised by its header). Every problem is an
:class:`engine.api.InputError` with one line naming the file.
"""

from __future__ import annotations

import os
from pathlib import Path

from engine.errors import InputError
from engine.gaussians import Gaussians

GAUSSIAN_SUFFIXES: tuple[str, ...] = (".ply", ".splat", ".spz")
"""File suffixes (lower case) that hold Gaussians rather than a photo."""


def is_gaussians_file(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is named like a Gaussians file (.ply / .splat / .spz, any case)."""
    return Path(path).suffix.lower() in GAUSSIAN_SUFFIXES


def load_gaussians(path: str | os.PathLike[str]) -> Gaussians:
    """A .ply (3DGS or compressed PLY), .splat or .spz file as Gaussians (FaceLift's frame for
    SPZ, whose files are RUB; the other formats as stored)."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a Gaussians file")
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    if path.suffix.lower() == ".splat":
        from engine.io.splat import load_splat

        return load_splat(path)
    if path.suffix.lower() == ".spz":
        from engine.io.spz import load_spz

        return load_spz(path)
    from engine.io.ply import load_ply

    return load_ply(path)
