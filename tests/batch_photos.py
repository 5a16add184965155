"""Photos for the batch tests: variations of the astronaut sample (each a different image with a
face the preprocessing finds), written once per session."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
PHOTO = REPO / "resources" / "samples" / "astronaut.png"


def write_photos(folder: Path, n: int) -> list[Path]:
    """``n`` distinct photos in ``folder``: shifted crops, mirrored every other one, each a
    little brighter than the one before. Returns their paths in name order."""
    folder.mkdir(parents=True, exist_ok=True)
    src = np.asarray(Image.open(PHOTO).convert("RGB"), dtype=np.float32)
    h, w = src.shape[:2]
    paths = []
    for i in range(n):
        crop = src[4 * i : h - 4 * (n - i), 6 * i : w - 6 * (n - i)]
        if i % 2:
            crop = crop[:, ::-1]
        img = np.clip(crop * (0.9 + 0.04 * i), 0, 255).astype(np.uint8)
        path = folder / f"photo{i}.png"
        Image.fromarray(img).save(path)
        paths.append(path)
    return paths
