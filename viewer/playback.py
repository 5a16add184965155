"""Playing an animation in the viewport (a mixin of viewer.canvas.GaussianViewer).

An animation is the same Gaussians moved frame by frame: ``show_frame`` swaps in that frame's
precomputed draw attributes (no maths on the GUI thread) and asks for a new back-to-front order;
while ``playing`` the viewer sorts and draws the level-of-detail subset it uses while the camera
moves (sized from the measured frame cost), and the full set again once playback stops. The
camera stays the user's: orbiting while it plays works as ever.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np

from viewer.sorting import back_to_front, lod_subset
from viewer.splat_data import SplatArrays

if TYPE_CHECKING:
    from engine.gaussians import Gaussians
    from viewer.gl_setup import SplatCanvas


class FramePlayback:
    """``show_frame``, ``set_playing`` and how many animation frames reached the screen."""

    playing: bool = False
    played_frames: int = 0  # animation frames that reached the screen while playing, ever
    _frame_generation: int = -1  # the generation of the last frame given to show_frame
    _drawn_generation: int = -1  # the generation of the attributes now on the GPU
    _counted_generation: int = -1
    _frame_draws: list[float]

    if TYPE_CHECKING:  # what GaussianViewer, which this is a mixin of, provides
        canvas: SplatCanvas
        _base: Gaussians | None
        _arrays: SplatArrays | None
        _generation: int
        _moving: bool
        _lod_budget: int
        _visible: np.ndarray
        _uploaded: tuple[int, str] | None
        splat: Any

        def _refilter(self) -> None: ...
        def _stop_progressive(self) -> None: ...
        def _current_matrix(self) -> np.ndarray: ...
        def _submit_sort(self, a: np.ndarray, kind: str) -> None: ...

    def show_frame(self, arrays: SplatArrays) -> None:
        """Draw the Gaussians given to ``set_gaussians`` at new positions and covariances (an
        animation frame, ``arrays`` of the same length); the visible mask and view are kept.

        Stopped: sorted on the sorting thread like any change. Playing: the level-of-detail
        subset is sorted and uploaded here at once (a few thousand splats: milliseconds), so no
        frame waits for the thread."""
        n = 0 if self._base is None else len(self._base)
        if len(arrays) != n:
            raise ValueError(f"an animation frame of {len(arrays)} Gaussians for {n}")
        self._arrays = arrays
        if self.playing:
            self._upload_frame_now(arrays)
        else:
            self._refilter()
        self._frame_generation = self._generation

    def _upload_frame_now(self, arrays: SplatArrays) -> None:
        self._generation += 1  # sorts still on the thread are for an older frame
        budget = self._lod_budget
        candidates, fraction = lod_subset(self._visible, arrays.lod_rank, budget)
        order = back_to_front(arrays.pos, candidates, self._current_matrix()[3])
        # as for a moving camera: fewer splats, each a little wider (see GaussianViewer)
        self.splat.set_data(arrays.gather(order), size_scale=min(2.0, max(fraction, 1e-6) ** -0.125))
        self._uploaded = (id(order), "lod")
        self._drawn_generation = self._generation
        self.canvas.update()

    def set_playing(self, playing: bool) -> None:
        """While playing, frames draw the level-of-detail subset; stopping draws every splat."""
        if playing == self.playing:
            return
        self.playing = playing
        if playing:
            self._frame_draws = []
            self._stop_progressive()
        elif self._arrays is not None:
            self._refilter()  # sort the frame on screen in full
            self._frame_generation = self._generation
        self.canvas.update()

    @property
    def lod_wanted(self) -> bool:
        """Draw the subset: the camera moves or an animation plays."""
        return self._moving or self.playing

    @property
    def frame_on_screen(self) -> bool:
        """True once the last ``show_frame`` is what the GPU draws."""
        return self._drawn_generation == self._frame_generation

    def _note_frame_drawn(self) -> None:
        """After each draw: count a new animation frame on screen (for ``frames_per_second``)."""
        if self._frame_generation < 0 or self._drawn_generation == self._counted_generation:
            return
        self._counted_generation = self._drawn_generation
        if self.playing:
            self.played_frames += 1
            now = time.perf_counter()
            self._frame_draws = [t for t in getattr(self, "_frame_draws", []) if now - t < 2.0] + [now]

    @property
    def frames_per_second(self) -> float:
        """Distinct animation frames drawn per second over the last two seconds of playback."""
        draws = getattr(self, "_frame_draws", [])
        if len(draws) < 2:
            return 0.0
        return (len(draws) - 1) / max(draws[-1] - draws[0], 1e-6)
