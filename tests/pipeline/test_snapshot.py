"""PNG snapshot export (needs engine.render)."""

from __future__ import annotations

import numpy as np

from engine.cameras import view_camera
from engine.gaussians import Gaussians
from engine.io import export as ex


def test_png_snapshot_shows_the_head_in_front_of_the_camera(tmp_path):
    from PIL import Image

    # a red blob at the origin and nothing else: it lands in the image centre
    n = 50
    g = Gaussians(
        xyz=np.zeros((n, 3)),
        sh_dc=np.tile([[1.5, -1.7, -1.7]], (n, 1)),
        sh_rest=np.zeros((n, 0, 3)),
        log_scales=np.full((n, 3), np.log(0.2)),
        quats=np.tile([[1.0, 0, 0, 0]], (n, 1)),
        opacity_logits=np.full(n, 4.0),
    )
    path = tmp_path / "snap.png"
    ex.export_gaussians(g, path, camera=view_camera("right", 64))
    img = np.asarray(Image.open(path))
    assert img.shape == (64, 64, 3)
    centre, corner = img[32, 32].astype(int), img[2, 2].astype(int)
    assert centre[0] > 200 and centre[1] < 80  # red
    assert (corner == 255).all()  # white background
