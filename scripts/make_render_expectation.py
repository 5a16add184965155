"""Write engine/conformance/render_expected.npz: the renderer's expected output for `facelift doctor`.

The scene is the reference Gaussians of the conformance set (GS-LRM's expected output after the
reference's filters, 5,083 points: anisotropic, overlapping, with empty background) seen by the
FaceLift cameras front, right and left at 64x64 on white. It is drawn by our torch rasteriser in
float32, the precision of 3DGS's CUDA rasteriser (float64 would flip a few alpha-threshold
decisions the reference makes in float32); tests/doctor/test_render_expectation.py checks the
file against an independent numpy transcription of 3DGS, so the expectation does not rest on our
code alone.

    python scripts/make_render_expectation.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIZE = 64
SLOTS = (0, 2, 4)  # front, right, left
BACKGROUND = (1.0, 1.0, 1.0)


def main() -> int:
    import torch

    from engine.cameras import facelift_cameras
    from engine.conformance import RENDER_EXPECTED, reference_dir
    from engine.gaussians import Gaussians
    from engine.render.projection import prepare_gaussians, project
    from engine.render.torch_raster import rasterize
    from engine.render.types import Camera

    with np.load(reference_dir() / "gslrm" / "expected.npz") as f:
        e = {k: f[k] for k in f.files}
    keep = e["keep_mask"]
    n = int(keep.sum())
    g = Gaussians(
        xyz=e["xyz"][keep],
        sh_dc=e["features_dc"][keep],
        sh_rest=np.zeros((n, 0, 3), np.float32),
        log_scales=e["scaling_pre"][keep],
        quats=e["rotation_raw"][keep],
        opacity_logits=e["opacity_pre"][keep, 0],
    )
    cams = facelift_cameras(SIZE, SIZE)
    prep = prepare_gaussians(g, "cpu", dtype=torch.float32)
    bg = torch.tensor(BACKGROUND, dtype=torch.float32)
    rgbs, alphas = [], []
    for slot in SLOTS:
        cam = Camera.from_arrays(cams.c2w[slot], cams.fxfycxcy[slot], SIZE, SIZE)
        rgb, alpha, _depth = rasterize(project(prep, cam), SIZE, SIZE, bg)
        rgbs.append(rgb.numpy().astype(np.float32))
        alphas.append(alpha.numpy().astype(np.float32))
    np.savez_compressed(
        RENDER_EXPECTED,
        xyz=g.xyz,
        sh_dc=g.sh_dc,
        log_scales=g.log_scales,
        quats=g.quats,
        opacity_logits=g.opacity_logits,
        c2w=cams.c2w[list(SLOTS)].astype(np.float32),
        fxfycxcy=cams.fxfycxcy[list(SLOTS)].astype(np.float32),
        rgb=np.stack(rgbs),
        alpha=np.stack(alphas),
        background=np.asarray(BACKGROUND, np.float32),
    )
    print(
        f"wrote {RENDER_EXPECTED} ({RENDER_EXPECTED.stat().st_size / 1e3:.0f} kB, {n} Gaussians, {len(SLOTS)} views)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
