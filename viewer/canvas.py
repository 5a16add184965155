"""The Gaussian viewport: a VisPy SceneCanvas with a turntable camera and the splat visual.

It draws what it is given -- a Gaussians object and which of them are visible (the window's
scene model, facelift_desktop/scene.py, decides that from its filter) -- and owns:
- the back-to-front order, re-sorted on a background thread when the view direction turns by
  more than ``resort_degrees`` (the result comes back through a VisPy timer on the GUI loop);
- level of detail: while the camera moves it draws a random subset sized from the measured
  frame cost so frames stay above ``target_fps``; ``still_delay`` seconds after the last
  move it draws every splat again;
- presets (front/left/right/back/top), reset (F), background toggle (B), screenshots.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np
from vispy import app, gloo, scene
from vispy.visuals.transforms import STTransform

from engine.gaussians import Gaussians
from engine.geometry import FOV_DEG, ORBIT_RADIUS
from viewer.gl_setup import (
    BACKGROUNDS,
    LOD_MAX,
    LOD_MIN,
    PRESETS,
    Progressive,
    SplatCanvas,
    ViewerStats,
    configure_vispy,
    vispy_azimuth,
)
from viewer.playback import FramePlayback
from viewer.sorting import DepthSorter, SortJob, SortResult, run_job
from viewer.splat_data import SplatArrays
from viewer.splat_visual import Splat, projection_matrix
from viewer.view_controls import ViewControls

__all__ = ["BACKGROUNDS", "PRESETS", "GaussianViewer", "ViewerStats", "configure_vispy", "vispy_azimuth"]


class GaussianViewer(ViewControls, FramePlayback):
    """The viewport. Embed ``viewer.native`` (a QWidget) in a layout.

    target_fps: frame rate to hold while the camera moves (subset size adapts to it).
    resort_degrees: view-direction change that triggers a background re-sort.
    still_delay: seconds without camera motion before the full set is drawn again.
    instanced: force the CPU-expanded quads with False (None: instancing when available).
    progressive_chunk: full sets larger than this are drawn progressively when still.
    """

    def __init__(
        self,
        size: tuple[int, int] = (800, 600),
        parent: object = None,
        background: str = "dark",
        show: bool = False,
        target_fps: float = 25.0,
        resort_degrees: float = 3.0,
        still_delay: float = 0.25,
        lod_start: int = 15_000,
        instanced: bool | None = None,
        progressive_chunk: int = 100_000,
    ) -> None:
        available = configure_vispy()
        instanced = available if instanced is None else instanced and available
        self.target_fps = target_fps
        self.resort_degrees = resort_degrees
        self.background = background if background in BACKGROUNDS else "dark"
        self.canvas = SplatCanvas(
            keys=None, size=size, parent=parent, show=show, bgcolor=BACKGROUNDS[self.background]
        )
        self.canvas.before_draw = self._before_draw
        self.canvas.after_draw = self._after_draw
        self.view = self.canvas.central_widget.add_view()
        self.camera = scene.TurntableCamera(
            fov=FOV_DEG, distance=ORBIT_RADIUS, elevation=0.0, azimuth=0.0, up="+z", center=(0.0, 0.0, 0.0)
        )
        self.view.camera = self.camera
        self.splat = Splat(instanced=instanced, parent=self.view.scene)
        # Big sets are drawn once still in chunks into an offscreen buffer (one chunk per event
        # loop turn, so the window stays responsive), then shown as an image until the next move.
        self.splat_chunks = Splat(instanced=instanced, parent=self.view.scene)
        self.splat_chunks.visible = False
        self.still_image = scene.visuals.Image(np.zeros((2, 2, 3), np.uint8), parent=self.canvas.scene)
        self.still_image.visible = False
        self.progressive_chunk = progressive_chunk
        self.chunk_seconds: list[float] = []  # GUI-thread time of each chunk of the last progressive draw
        self._progress: Progressive | None = None
        self.message = scene.visuals.Text(
            "",
            color=(0.62, 0.65, 0.70, 1.0),
            font_size=13,
            anchor_x="center",
            anchor_y="center",
            parent=self.canvas.scene,
        )
        self.canvas.events.resize.connect(self._place_message)
        self._place_message()
        self.canvas.events.key_press.connect(self._on_key)

        self._base: Gaussians | None = None
        self._arrays: SplatArrays | None = None
        self._mask: np.ndarray | None = None
        self._visible: np.ndarray = np.zeros(0, np.int64)
        self._generation = 0
        self._sorter = DepthSorter()
        # newest result and newest submitted depth row per kind ("full" | "lod")
        self._results: dict[str, SortResult] = {}
        self._rows: dict[str, np.ndarray] = {}
        self._uploaded: tuple[int, str] | None = None  # (id(result), kind) now on the GPU
        self._last_matrix: np.ndarray | None = None
        self._moving = False
        self._lod_budget = int(lod_start)
        self._frame_costs: list[float] = []
        self._overheads: list[float] = []
        self._frame_times: list[float] = []
        self.stats_listeners: list[Callable[[ViewerStats], None]] = []
        self.last_sort_seconds = 0.0

        self._poll = app.Timer(interval=0.02, connect=self._poll_sorter, start=False)
        self._chunk_timer = app.Timer(interval=0.0, connect=self._draw_next_chunk, start=False)
        self.canvas.events.resize.connect(lambda _e: self._stop_progressive())
        self._still = app.Timer(interval=still_delay, connect=self._on_still, iterations=1, start=False)
        self._closed = False
        self._full_shown = 0

    # ---- the model -------------------------------------------------------------------

    @property
    def native(self) -> object:
        """The backend widget (a QWidget with the PySide6 backend)."""
        return self.canvas.native

    @property
    def gaussians(self) -> Gaussians | None:
        """The result being shown (unfiltered)."""
        return self._base

    @property
    def visible_count(self) -> int:
        """How many Gaussians are drawn when still (the visible mask's count)."""
        return len(self._visible)

    @property
    def visible_index(self) -> np.ndarray:
        """Indices (K,) into ``gaussians`` of the splats drawn when still, ascending."""
        return self._visible

    @property
    def drawn_count(self) -> int:
        """How many splats the view shows (smaller while moving)."""
        if self.still_image.visible:
            return self._full_shown
        return self.splat.count

    def set_gaussians(
        self,
        gaussians: Gaussians | None,
        reset_view: bool = False,
        visible: np.ndarray | None = None,
        arrays: SplatArrays | None = None,
    ) -> None:
        """Show ``gaussians`` (None clears), only those where ``visible`` (N,) bool is True (None:
        all). Draw attributes are computed once here (``arrays``: already computed ones)."""
        if gaussians is not self._base:
            self._base = gaussians
            if gaussians is None or len(gaussians) == 0:
                self._arrays = None
            else:
                self._arrays = arrays if arrays is not None else SplatArrays.from_gaussians(gaussians)
        if reset_view:
            self.reset_view()
        self.set_visible(visible)

    def set_visible(self, mask: np.ndarray | None) -> None:
        """Draw only the Gaussians where ``mask`` (N,) bool is True (None: all); live, the
        Gaussians' draw attributes are not computed again."""
        n = 0 if self._base is None else len(self._base)
        if mask is not None and mask.shape != (n,):
            raise ValueError(f"visible mask of shape {mask.shape} for {n} Gaussians")
        self._mask = mask
        self._refilter()

    def _refilter(self) -> None:
        self._generation += 1
        if self._base is None or self._arrays is None:
            self._visible = np.zeros(0, np.int64)
            self._results.clear()
            self._rows.clear()
            self._uploaded = None
            self.splat.set_data({})
        else:
            n = len(self._base)
            self._visible = (
                np.arange(n, dtype=np.int64)
                if self._mask is None
                else np.flatnonzero(self._mask).astype(np.int64)
            )
            self._rows.clear()
            self._submit_sort(self._current_matrix(), "lod" if self.lod_wanted else "full")
        self._emit_stats()
        self.canvas.update()

    # ---- sorting and level of detail -------------------------------------------------

    def _current_matrix(self) -> np.ndarray:
        """Math matrix A (4,4) with clip = A @ (x,y,z,1) for the current camera."""
        tr = self.splat.transforms.get_transform("visual", "render")
        return projection_matrix(tr).T

    def _submit_sort(self, a: np.ndarray, kind: str) -> None:
        if self._arrays is None:
            return
        row = a[3].copy()
        self._rows[kind] = row
        budget = None if kind == "full" else self._lod_budget
        self._sorter.submit(SortJob(self._arrays, self._generation, row, self._visible, budget))
        if not self._poll.running:
            self._poll.start()

    def _needs_resort(self, a: np.ndarray, kind: str) -> bool:
        """Has the view turned (or moved along its axis) enough since the last ``kind`` sort?"""
        old = self._rows.get(kind)
        if old is None:
            return True
        f_old = old[:3] / max(np.linalg.norm(old[:3]), 1e-12)
        f_new = a[3, :3] / max(np.linalg.norm(a[3, :3]), 1e-12)
        angle = math.degrees(math.acos(float(np.clip(np.dot(f_old, f_new), -1.0, 1.0))))
        # the depth offset changes when the eye moves along the view direction (zoom, pan)
        shift = abs(float(a[3, 3] - old[3])) / max(abs(float(old[3])), 1e-6)
        return angle > self.resort_degrees or shift > 0.1

    def _before_draw(self) -> None:
        if self._arrays is None:
            return
        a = self._current_matrix()
        if self._last_matrix is not None and not np.allclose(a, self._last_matrix, rtol=1e-6, atol=1e-7):
            self._moving = True
            self._still.stop()
            self._still.start()
            self._stop_progressive()
        self._last_matrix = a
        # While moving only the small subset is re-sorted; the full set is sorted once still.
        kind = "lod" if self.lod_wanted and self._lod_budget < len(self._visible) else "full"
        if self._needs_resort(a, kind) and not self.playing:  # playing: each frame sorts as shown
            self._submit_sort(a, kind)
        self._upload_for_mode(progressive=not self.playing)

    def _current(self, kind: str) -> SortResult | None:
        result = self._results.get(kind)
        return result if result is not None and result.generation == self._generation else None

    def _upload_for_mode(self, progressive: bool = True) -> None:
        lod, full = self._current("lod"), self._current("full")
        want_lod = self.lod_wanted and self._lod_budget < len(self._visible)
        result = (lod or full) if want_lod else (full or lod)
        if result is None:
            return
        key = (id(result), result.kind)
        if key == self._uploaded:
            return
        if result.kind == "lod":
            # Fewer splats cover less area: widen each a little so the surface reads as one.
            # (Full compensation, 1/sqrt(p), would cost as many fragments as the full set.)
            self.splat.set_data(result.attrs, size_scale=min(2.0, max(result.fraction, 1e-6) ** -0.125))
        elif progressive and result.count > self.progressive_chunk:
            if self._progress is None or self._progress.result is not result:
                self._start_progressive(result)
            return
        else:
            self.splat.set_data(result.attrs)
        self._uploaded = key
        self._drawn_generation = result.generation

    def _start_progressive(self, result: SortResult) -> None:
        self._stop_progressive()
        w, h = self.canvas.physical_size
        fbo = gloo.FrameBuffer(color=gloo.RenderBuffer((h, w)), depth=gloo.RenderBuffer((h, w)))
        self._progress = Progressive(result=result, fbo=fbo, start=0)
        self.chunk_seconds = []
        self._chunk_timer.start()

    def _stop_progressive(self) -> None:
        self._chunk_timer.stop()
        self._progress = None
        if self.still_image.visible:
            self.still_image.visible = False
            self.splat.visible = True
            self._uploaded = None  # the GPU holds what was drawn before the image: decide again
            self.canvas.update()

    def _draw_next_chunk(self, _event: object = None) -> None:
        """Draw the next back-to-front chunk of the full set into the offscreen buffer."""
        job = self._progress
        if job is None or job.result is not self._current("full") or self.lod_wanted:
            self._stop_progressive()
            return
        t0 = time.perf_counter()
        n = job.result.count
        stop = min(n, job.start + self.progressive_chunk)
        chunk = {k: v[job.start : stop] for k, v in job.result.attrs.items()}
        self.canvas.set_current()
        self.canvas.push_fbo(job.fbo, (0, 0), self.canvas.size)
        try:
            if job.start == 0:
                self.canvas.context.clear(color=self.canvas.bgcolor, depth=True)
            self.splat_chunks.set_data(chunk)
            self.splat_chunks.visible = True
            self.canvas.draw_visual(self.splat_chunks)
            self.splat_chunks.visible = False
            image = job.fbo.read() if stop >= n else None
        finally:
            self.canvas.pop_fbo()
        job.start = stop
        self.chunk_seconds.append(time.perf_counter() - t0)
        if image is not None:
            self._chunk_timer.stop()
            self._progress = None
            self.splat_chunks.set_data({})
            self.still_image.set_data(np.ascontiguousarray(image[..., :3]))
            # the buffer has physical pixels; the canvas scene counts logical ones (HiDPI)
            scale = 1.0 / self.canvas.pixel_scale
            self.still_image.transform = STTransform(scale=(scale, scale))
            self.still_image.visible = True
            self.splat.visible = False  # the image covers it; do not pay for drawing it
            self._uploaded = (id(job.result), "full")
            self._drawn_generation = job.result.generation
            self._full_shown = job.result.count
            self.canvas.update()
            self._emit_stats()

    def _after_draw(self, seconds: float) -> None:
        now = time.perf_counter()
        previous = self._frame_times[-1] if self._frame_times else None
        self._frame_times = [t for t in self._frame_times if now - t < 2.0] + [now]
        drawn = self.splat.count
        if drawn > 0 and self._uploaded is not None and self.splat.visible:
            # cost per drawn splat; a full still frame also informs the first move
            self._frame_costs = [*self._frame_costs, seconds / drawn][-8:]
            if self.lod_wanted and previous is not None and now - previous < 0.5:
                # what a frame costs besides drawing (event handling, compositing the widget)
                self._overheads = [*self._overheads, max(0.0, now - previous - seconds)][-8:]
            per_splat = float(np.median(self._frame_costs))
            frame_budget = 1.0 / self.target_fps
            overhead = min(float(np.median(self._overheads)) if self._overheads else 0.0, 0.6 * frame_budget)
            budget = 0.9 * (frame_budget - overhead) / per_splat
            self._lod_budget = int(np.clip(budget, LOD_MIN, LOD_MAX))
        self._note_frame_drawn()
        self._emit_stats()

    def _poll_sorter(self, _event: object = None) -> None:
        redraw = False
        for result in self._sorter.take_results():
            if result.kind == "full":
                self.last_sort_seconds = result.seconds
            if result.generation == self._generation:
                self._results[result.kind] = result
                # a moving camera draws again anyway and picks the new order up then
                redraw |= result.kind == "full" or not self._moving or self._uploaded is None
        if redraw:
            self.canvas.update()
        if not self._sorter.pending:
            self._poll.stop()

    def _on_still(self, _event: object = None) -> None:
        self._moving = False
        if self.playing:
            return  # the next frame is drawn from the new view anyway; the full set once paused
        if self._last_matrix is not None and self._needs_resort(self._last_matrix, "full"):
            self._submit_sort(self._last_matrix, "full")
        self.canvas.update()

    @property
    def moving(self) -> bool:
        return self._moving

    @property
    def lod_budget(self) -> int:
        return self._lod_budget

    @property
    def busy(self) -> bool:
        """True until the full, current set is sorted for this view and on the GPU."""
        if self._arrays is None:
            return False
        full = self._current("full")
        return self._moving or self._sorter.pending or full is None or self._uploaded != (id(full), "full")

    def settle(self) -> None:
        """Finish any motion and sort synchronously so the next draw is final (GUI thread)."""
        self._still.stop()
        self._moving = False
        if self._arrays is None:
            return
        self._sorter.wait_idle()
        self._poll_sorter()
        a = self._current_matrix()
        self._last_matrix = a
        if self._current("full") is None or self._needs_resort(a, "full"):
            self._rows["full"] = a[3].copy()
            self._results["full"] = run_job(
                SortJob(self._arrays, self._generation, self._rows["full"], self._visible)
            )
        self._stop_progressive()
        if (
            self._uploaded is not None
            and self._uploaded[1] == "full"
            and self.splat.count != len(self._visible)
        ):
            self._uploaded = None  # the full set was shown as an image: upload it for real
        self._upload_for_mode(progressive=False)

    # ---- output ----------------------------------------------------------------------

    def render_image(self) -> np.ndarray:
        """The current view with every visible splat at the canvas size, (H,W,3) uint8 RGB."""
        self.settle()
        img = self.canvas.render(alpha=False)
        return np.ascontiguousarray(img[..., :3])

    def render_square(self) -> np.ndarray:
        """The centred square of the view at the canvas' resolution, (S,S,3) uint8 RGB.

        (VisPy's ``render(size=...)`` does not scale a custom visual's pixel maths, so callers
        resample the result themselves.)
        """
        self.settle()
        w, h = self.canvas.size
        side = min(w, h)
        region = ((w - side) // 2, (h - side) // 2, side, side)
        return np.ascontiguousarray(self.canvas.render(region=region, alpha=False)[..., :3])

    def render_orbit_frame(self, azimuth: float, elevation: float) -> np.ndarray:
        """``render_square`` from the orbit camera at ``azimuth``/``elevation`` (degrees, as
        engine.geometry: 270 = the front camera) at the FaceLift distance, looking at the origin.

        The user's view is restored afterwards.
        """
        state = self.camera.get_state()
        distance = self.camera.distance
        try:
            self.camera.set_state(
                {"azimuth": vispy_azimuth(azimuth), "elevation": elevation, "center": (0.0, 0.0, 0.0)}
            )
            self.camera.distance = ORBIT_RADIUS
            self.camera.view_changed()
            return self.render_square()
        finally:
            self.camera.set_state(state)
            self.camera.distance = distance
            self.camera.view_changed()

    @property
    def seconds_since_last_frame(self) -> float:
        return time.perf_counter() - self._frame_times[-1] if self._frame_times else float("inf")

    @property
    def fps(self) -> float:
        """Frames drawn during the last two seconds, per second."""
        now = time.perf_counter()
        recent = [t for t in self._frame_times if now - t < 2.0]
        if len(recent) < 2:
            return 0.0
        return (len(recent) - 1) / max(recent[-1] - recent[0], 1e-6)

    def stats(self) -> ViewerStats:
        total = 0 if self._base is None else len(self._base)
        return ViewerStats(self.drawn_count, len(self._visible), total, self.fps, self._moving)

    def _emit_stats(self) -> None:
        if not self.stats_listeners:
            return
        s = self.stats()
        for listener in list(self.stats_listeners):
            listener(s)

    def close(self) -> None:
        """Stop timers and the sorting thread, close the canvas (idempotent)."""
        if self._closed:
            return
        self._closed = True
        for timer in (self._poll, self._still):
            timer.stop()
        self._stop_progressive()
        self._sorter.close()
        self.stats_listeners.clear()
        self.canvas.close()
