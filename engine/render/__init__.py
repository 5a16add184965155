"""Gaussian rasterisation: gsplat on CUDA, a vectorised pure-torch rasteriser elsewhere.

Public names: ``render``, ``RenderResult``, ``available_backends``, ``prepare``,
``render_turntable``, ``to_uint8``. torch is imported only when rendering. Nothing here imports
engine.io: writing a rendered turntable or snapshot to a file is engine.io.export's job.
"""

from engine.render.dispatch import available_backends, prepare, render, resolve_backend
from engine.render.turntable import render_turntable
from engine.render.types import RenderResult, to_uint8

__all__ = [
    "RenderResult",
    "available_backends",
    "prepare",
    "render",
    "render_turntable",
    "resolve_backend",
    "to_uint8",
]
