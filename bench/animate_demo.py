"""Make the animation demo in docs/: a driver clip of Grace Hopper (matplotlib's sample photo,
US Navy, public domain) moved by known transforms, and the astronaut (scikit-image, NASA) driven
by it with `facelift animate`.

The driver: Hopper's instant head, rigged, animated by a script -- yaw 25 deg * sin, pitch
10 deg * sin at another rate, the jaw (the face mesh's points below the upper lip's inner edge)
dropped by up to 6 % of the face height twice -- rendered from the front camera. Then
`facelift animate` drives the astronaut's instant head with that clip, side by side.
Run: `nice -n 10 .venv/bin/python bench/animate_demo.py OUT_DIR`; writes animate_driver.mp4 (kept
when it exists), animate.mp4 and animate.gif (192 px high, 12.5 fps) in OUT_DIR.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.animate.deform import Pose, deform
from engine.animate.head_fit import fit_head_landmarks
from engine.animate.landmarks import UPPER_LIP_INNER
from engine.animate.rig import bind
from engine.animate.similarity import rotation_matrix
from engine.api import ReconstructionRequest
from engine.cameras import facelift_cameras
from engine.cli import main as facelift
from engine.engines import InstantEngine
from engine.io.images import save_png
from engine.io.ply import save_ply
from engine.io.video import write_video
from engine.render import render, to_uint8

PORTRAITS = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "portraits"
FRAMES, FPS, SIZE = 100, 25.0, 320


def driver_frames(photo: Path):  # type: ignore[no-untyped-def]
    result = InstantEngine().run(ReconstructionRequest(photo))
    assert result.input_image is not None
    rig = bind(result.gaussians, fit_head_landmarks(result.input_image, result.gaussians))
    jaw = rig.landmarks[:, 2] < rig.landmarks[UPPER_LIP_INNER, 2] - 1e-4
    cams = facelift_cameras(SIZE)
    for i in range(FRAMES):
        t = i / FPS
        yaw = np.radians(25.0) * np.sin(2 * np.pi * t / 4.0)
        pitch = np.radians(10.0) * np.sin(2 * np.pi * t / 2.0)
        drop = 0.06 * rig.height * max(0.0, np.sin(2 * np.pi * t / 2.0 + 1.0)) ** 2
        offsets = np.zeros_like(rig.landmarks)
        offsets[jaw, 2] = -drop
        rot = rotation_matrix(np.array([0.0, 0.0, yaw])) @ rotation_matrix(np.array([pitch, 0.0, 0.0]))
        g = deform(rig, offsets, Pose(rot))
        yield to_uint8(render(g, cams.c2w[0], cams.fxfycxcy[0], SIZE, SIZE, backend="torch-cpu").rgb)


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs")
    out.mkdir(parents=True, exist_ok=True)
    driver = out / "animate_driver.mp4"
    if not driver.is_file():  # made once; delete it to make it again
        write_video(driver_frames(PORTRAITS / "hopper.jpg"), driver, FPS)
    head = Path(tempfile.mkdtemp(prefix="astronaut_head_"))  # the head is not part of the demo's files
    result = InstantEngine().run(ReconstructionRequest(PORTRAITS / "astronaut.jpg"))
    save_ply(result.gaussians, head / "gaussians.ply")
    assert result.input_image is not None
    save_png(result.input_image, head / "input.png")
    video = out / "animate.mp4"
    argv = ["animate", str(head), "--driver", str(driver), "-o", str(video), "--size", str(SIZE)]
    try:
        if facelift([*argv, "--side-by-side", "--overwrite"]) != 0:
            return 1
    finally:
        shutil.rmtree(head, ignore_errors=True)
    _gif(video, out / "animate.gif")
    return 0


def _gif(video: Path, gif: Path) -> None:
    """Every other frame of ``video`` at 192 px high as a GIF (engine.io.video)."""
    import imageio_ffmpeg
    from PIL import Image

    reader = imageio_ffmpeg.read_frames(str(video))
    w, h = next(reader)["size"]
    small = []
    for i, raw in enumerate(reader):
        if i % 2 == 0:
            im = Image.fromarray(np.frombuffer(raw, np.uint8).reshape(h, w, 3))
            small.append(np.asarray(im.resize((w * 192 // h // 2 * 2, 192), Image.Resampling.BICUBIC)))
    write_video(iter(small), gif, FPS / 2)


if __name__ == "__main__":
    sys.exit(main())
