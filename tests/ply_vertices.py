"""Gaussians as 3DGS PLY vertex records, for writing PLY files with plyfile the way other tools
do (tests/foundation/test_ply.py; bench/ply.py times the reference's writer with it)."""

from __future__ import annotations

import numpy as np

from engine.gaussians import Gaussians


def fill_splat_fields(vertices: np.ndarray, g: Gaussians) -> None:
    """Writes ``g`` into the structured array ``vertices`` (N,) under the 3DGS property names:
    x y z (centres), f_dc_0..2 (SH degree 0), opacity (logit), scale_0..2 (log), rot_0..3
    (quaternion w x y z). Other fields of ``vertices`` are left as they are."""
    for i, axis in enumerate("xyz"):
        vertices[axis] = g.xyz[:, i]
    for i in range(3):
        vertices[f"f_dc_{i}"] = g.sh_dc[:, i]
        vertices[f"scale_{i}"] = g.log_scales[:, i]
    for i in range(4):
        vertices[f"rot_{i}"] = g.quats[:, i]
    vertices["opacity"] = g.opacity_logits
