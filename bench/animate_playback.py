"""Animation playback in the window: distinct animation frames drawn per second for a 200 k
head (run under Xvfb; the numbers depend on the GL driver, Mesa llvmpipe here, and the load).

    xvfb-run -a -s "-screen 0 1920x1080x24 +extension GLX" python bench/animate_playback.py [--sizes 200000]

The head is the instant engine's astronaut (bench/animate.py's sizing: a random subset, or
repeated with jitter), saved as a PLY with its rig file and opened in the real MainWindow with
its VisPy viewport (1280x800); the driver is docs/animate_driver.mp4 (100 frames at 25 fps,
Grace Hopper moved by known transforms). Timed: the Animate panel's job (track the driver, rig
the head, compute every frame's draw attributes), then playback for a few seconds with the
camera still and while orbiting (a drag's worth of camera turn every 20 ms), counting the animation
frames that reached the screen (viewer.played_frames) over the wall time; then how long a paused
frame takes to be on screen with every splat.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

DRIVER = ROOT / "docs" / "animate_driver.mp4"


def run_events(app, seconds: float, until=None, every=None) -> float:  # type: ignore[no-untyped-def]
    """Run the Qt event loop for ``seconds`` (or until ``until()``), calling ``every()`` each
    20 ms; returns the time spent."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    tick = QTimer()
    tick.setInterval(20)

    def check() -> None:
        if every is not None:
            every()
        if until is not None and until():
            loop.quit()

    tick.timeout.connect(check)
    tick.start()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    t0 = time.perf_counter()
    loop.exec()
    tick.stop()
    return time.perf_counter() - t0


def playback_fps(app, window, seconds: float, orbit: bool) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(frames drawn per second, median splats drawn per frame) over ``seconds`` of playback."""
    viewer = window.viewport.viewer
    drawn: list[int] = []
    window.play()
    run_events(app, 1.0)  # the level of detail settles on the measured frame cost
    start, t0 = viewer.played_frames, time.perf_counter()

    def step() -> None:
        drawn.append(viewer.splat.count)
        if orbit:
            viewer.orbit(1.5, 0.0)

    run_events(app, seconds, every=step)
    fps = (viewer.played_frames - start) / (time.perf_counter() - t0)
    window.pause()
    drawn.sort()
    return fps, float(drawn[len(drawn) // 2]) if drawn else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="200000")
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()

    import numpy as np
    from animate import sized
    from PySide6.QtWidgets import QApplication
    from vispy.gloo import gl

    from engine.animate.head_fit import fit_head_landmarks
    from engine.animate.head_source import rig_path, save_rig
    from engine.api import ReconstructionRequest
    from engine.engines import InstantEngine
    from engine.io.ply import save_ply
    from facelift_desktop.main_window import MainWindow
    from facelift_desktop.settings import AppSettings
    from viewer.canvas import configure_vispy

    app = QApplication.instance() or QApplication([])
    configure_vispy()
    portrait = ROOT / "tests" / "fixtures" / "portraits" / "astronaut.jpg"
    result = InstantEngine().run(ReconstructionRequest(portrait))
    assert result.input_image is not None
    landmarks = fit_head_landmarks(result.input_image, result.gaussians)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        window = MainWindow(AppSettings.at_path(Path(tmp) / "settings.ini"), use_gl=True)
        window.modal_dialogs = False
        window.resize(1280, 800)
        window.show()
        run_events(app, 1.0)
        viewer = window.viewport.viewer
        print(f"GL renderer: {gl.glGetParameter(gl.GL_RENDERER)}; viewport {tuple(viewer.canvas.size)}")
        for n in (int(s) for s in args.sizes.split(",")):
            ply = Path(tmp) / f"head_{n}.ply"
            save_ply(sized(result.gaussians, n, np.random.default_rng(0)), ply)
            save_rig(rig_path(ply), landmarks)
            assert window.open_gaussians(ply)
            t0 = time.perf_counter()
            window.load_driver(DRIVER)
            run_events(app, 900.0, until=lambda: window.job is None)
            prepare_s = time.perf_counter() - t0
            animation = window.animation
            assert animation is not None, window.status_message.text()
            mb = (animation.pos.nbytes + animation.cov_a.nbytes + animation.cov_b.nbytes) / 1e6
            still_fps, still_drawn = playback_fps(app, window, args.seconds, orbit=False)
            orbit_fps, orbit_drawn = playback_fps(app, window, args.seconds, orbit=True)
            window.show_animation_frame(animation.frames // 2)
            t0 = time.perf_counter()
            run_events(app, 60.0, until=lambda: viewer.frame_on_screen and not viewer.busy)
            paused_s = time.perf_counter() - t0
            rows.append(
                (n, animation.frames, prepare_s, mb, still_fps, still_drawn, orbit_fps, orbit_drawn, paused_s)
            )
            window.stop_animation()
        window.shutdown()
    print(
        f"{'Gaussians':>10} {'frames':>6} {'prepare':>8} {'frames MB':>9} {'play fps':>8} {'drawn':>8}"
        f" {'orbit+play fps':>14} {'drawn':>8} {'paused frame, all splats':>24}"
    )
    for n, f, p, mb, sf, sd, of, od, ps in rows:
        print(
            f"{n:>10,} {f:>6} {p:>7.1f}s {mb:>9.0f} {sf:>8.1f} {sd:>8,.0f} {of:>14.1f} {od:>8,.0f} {ps:>23.2f}s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
