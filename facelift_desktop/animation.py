"""The Animate panel's data: a driver applied to the window's current head, every frame's draw
arrays computed once so playback only uploads (no Qt here; the panel runs :func:`prepare` as a
facelift_desktop.jobs.TaskJob).

Deforming a 200 k head takes ~0.1 s a frame and its covariances as long again, too slow to do
while playing; so the job tracks the driver, rigs the head (engine.animate), deforms it for
every frame and keeps the viewer's per-Gaussian draw attributes (positions and covariances, and
the mouth interior's opacity) for all of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.animate.motion import Motion
from engine.animate.rig import Rig
from engine.api import CancelToken, ProgressCallback, ProgressEvent, ReconstructionResult
from engine.errors import InputError
from engine.gaussians import Gaussians
from viewer.splat_data import SplatArrays, covariances

MAX_BYTES = 3 * 1024**3
"""Most memory the frames of one animation may take (36 bytes per Gaussian per frame)."""

NO_RIG = (
    "this head has no rig and no input photo to fit one: reconstruct a photo, or open a "
    "reconstruction folder (with its input.png) or a PLY with its .rig.npz"
)


@dataclass(frozen=True)
class Animation:
    """A head driven by a driver, ready to play.

    driver: the driver file; fps: its frame rate. rig: the bound head (rig.base: the head's N
    Gaussians then the mouth interior's). moves: the motion of each of the F frames.
    pos (F,N,3), cov_a / cov_b (F,N,3) float32: the draw attributes of every frame (as
    viewer.splat_data.SplatArrays); interior_alpha (F,K) float32 the mouth interior's opacity.
    static: the static head's SplatArrays (colours, opacities, level-of-detail ranks).
    """

    driver: Path
    fps: float
    rig: Rig
    moves: list[Motion]
    pos: np.ndarray
    cov_a: np.ndarray
    cov_b: np.ndarray
    interior_alpha: np.ndarray
    static: SplatArrays

    @property
    def frames(self) -> int:
        return int(self.pos.shape[0])

    @property
    def base(self) -> Gaussians:
        """The static head with its (hidden) mouth interior: what the viewer is given."""
        return self.rig.base

    def arrays(self, index: int) -> SplatArrays:
        """The draw attributes of frame ``index`` (views into the stored frames; rgba a copy)."""
        rgba = self.static.rgba.copy()
        rgba[self.rig.interior, 3] = self.interior_alpha[index]
        return SplatArrays(
            pos=self.pos[index],
            cov_a=self.cov_a[index],
            cov_b=self.cov_b[index],
            rgba=rgba,
            lod_rank=self.static.lod_rank,
        )

    def gaussians(self, index: int) -> Gaussians:
        """The deformed Gaussians of frame ``index`` (computed again: exports without GL)."""
        from engine.animate.deform import deform

        m = self.moves[index]
        return deform(self.rig, m.offsets, m.pose)


def head_landmarks(result: ReconstructionResult, on_progress: ProgressCallback) -> np.ndarray:
    """(478,3) the current head's landmarks: fitted from its input photo (a reconstruction), or
    an opened file's rig / input.png beside it. InputError (one line) when it has neither."""
    from engine.animate.head_fit import fit_head_landmarks
    from engine.animate.head_source import stored_landmarks
    from engine.io.formats import resolve_head

    if result.input_image is not None:
        on_progress(ProgressEvent("rig", 0, 1, "fitting the face mesh to the head"))
        return fit_head_landmarks(result.input_image, result.gaussians, "the current head")
    source = result.info.get("source") if isinstance(result.info, dict) else None
    if not source:
        raise InputError(NO_RIG)
    gfile, _mesh = resolve_head(Path(source))
    try:
        return stored_landmarks(Path(source), gfile, result.gaussians, on_progress)
    except InputError as exc:
        raise InputError(f"{Path(source).name}: {NO_RIG}") from exc


def prepare(
    result: ReconstructionResult,
    driver: Path,
    on_progress: ProgressCallback,
    cancel: CancelToken,
    max_bytes: int = MAX_BYTES,
) -> Animation:
    """Track ``driver`` (video or photo), rig ``result``'s head and compute every frame's draw
    attributes. One-line InputErrors: unreadable video, no face in the driver, a head without a
    rig, an animation too big for memory; engine.api.Cancelled when ``cancel`` is set."""
    from engine.animate.deform import deform
    from engine.animate.pipeline import motions, track_driver
    from engine.animate.rig import bind

    landmarks = head_landmarks(result, on_progress)  # a head without a rig fails before tracking
    track = track_driver(driver, _staged(on_progress, "track"), cancel)
    cancel.raise_if_cancelled()
    rig = bind(result.gaussians, landmarks)
    moves = motions(rig, track)
    n, count = len(rig.base), len(moves)
    need = 36 * n * count
    if need > max_bytes:
        most = max(1, max_bytes // (36 * n))
        raise InputError(
            f"{driver}: {count} frames of a {n:,}-Gaussian head need {need / 1024**3:.1f} GB to play; "
            f"use a driver of at most {most} frames"
        )
    k = len(rig.interior_logits)
    pos = np.empty((count, n, 3), np.float32)
    cov_a = np.empty((count, n, 3), np.float32)
    cov_b = np.empty((count, n, 3), np.float32)
    alpha = np.empty((count, k), np.float32)
    for i, m in enumerate(moves):
        cancel.raise_if_cancelled()
        g = deform(rig, m.offsets, m.pose)
        pos[i] = g.xyz
        cov = covariances(g)
        cov_a[i], cov_b[i] = cov[:, :3], cov[:, 3:]
        alpha[i] = g.opacities[rig.interior]
        on_progress(ProgressEvent("animate", i + 1, count, f"frame {i + 1}/{count}"))
    return Animation(
        driver,
        float(track.info.fps),
        rig,
        moves,
        pos,
        cov_a,
        cov_b,
        alpha,
        SplatArrays.from_gaussians(rig.base),
    )


def _staged(on_progress: ProgressCallback, stage: str) -> Callable[[ProgressEvent], None]:
    def forward(event: ProgressEvent) -> None:
        on_progress(ProgressEvent(stage, event.step, event.total, event.message))

    return forward
