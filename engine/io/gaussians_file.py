"""Opening a Gaussian-splat file of either supported format by its suffix.

``.splat`` goes to :func:`engine.io.splat.load_splat`, anything else to
:func:`engine.io.ply.load_ply`. Every problem is an :class:`engine.api.InputError` with one line
naming the file.
"""

from __future__ import annotations

import os
from pathlib import Path

from engine.errors import InputError
from engine.gaussians import Gaussians

GAUSSIAN_SUFFIXES: tuple[str, ...] = (".ply", ".splat")
"""File suffixes (lower case) that hold Gaussians rather than a photo."""


def is_gaussians_file(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is named like a Gaussians file (.ply / .splat, any case)."""
    return Path(path).suffix.lower() in GAUSSIAN_SUFFIXES


def load_gaussians(path: str | os.PathLike[str]) -> Gaussians:
    """A .ply (3DGS PLY, any layout engine.io.ply reads) or .splat file as Gaussians."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a Gaussians file")
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    if path.suffix.lower() == ".splat":
        from engine.io.splat import load_splat

        return load_splat(path)
    from engine.io.ply import load_ply

    return load_ply(path)
