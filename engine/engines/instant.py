"""The instant engine: preprocess -> engine.instant.InstantReconstructor (offline, CPU, mediapipe)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.api import (
    CancelToken,
    ProgressCallback,
    ProgressEvent,
    ReconstructionRequest,
    ReconstructionResult,
    no_progress,
)
from engine.engines.base import ensure_token, make_result, prepare, prepared_info, timed
from engine.gaussians import Gaussians
from engine.oom import oom_guard

if TYPE_CHECKING:
    from engine.instant import InstantReconstructor
    from engine.preprocess import Prepared


class InstantEngine:
    """The built-in offline engine. ``reason``: why it was chosen, for ``describe()``."""

    name = "instant"

    def __init__(self, reason: str = "") -> None:
        self.reason = reason
        self._recon: InstantReconstructor | None = None

    def describe(self) -> str:
        return "instant engine" + (f" ({self.reason})" if self.reason else "")

    def load(self, on_progress: ProgressCallback = no_progress) -> None:
        self._reconstructor(on_progress)

    def _reconstructor(self, on_progress: ProgressCallback = no_progress) -> InstantReconstructor:
        if self._recon is None:
            from engine.instant import InstantReconstructor

            on_progress(ProgressEvent("load", 0, 1, "loading the instant engine"))
            self._recon = InstantReconstructor()
            on_progress(ProgressEvent("load", 1, 1, "instant engine ready"))
        return self._recon

    def unload(self) -> None:
        self._recon = None

    def reconstruct_prepared(
        self,
        prepared: Prepared,
        on_progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
    ) -> Gaussians:
        """Gaussians from an already preprocessed photo (also the FaceLift engine's preview)."""
        with oom_guard("building the instant head", device="cpu"):
            return self._reconstructor().run(prepared, on_progress=on_progress, cancel=cancel)

    def run(
        self,
        request: ReconstructionRequest,
        on_progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
    ) -> ReconstructionResult:
        cancel = ensure_token(cancel)
        timings: dict[str, float] = {}
        self.load(on_progress)
        with timed(timings, "preprocess"):
            prepared = prepare(request, on_progress, cancel)
        with timed(timings, "instant"), oom_guard("building the instant head", device="cpu"):
            head = self._reconstructor().run_head(prepared, on_progress=on_progress, cancel=cancel)
        cancel.raise_if_cancelled()
        info = prepared_info(prepared)
        info.update(device="cpu", unfiltered_gaussians=head.gaussians)
        result = make_result(self.name, prepared, head.gaussians, None, timings, info)
        result.mesh = head.mesh.to_trimesh()  # the fitted head: exports and a later rig use it
        return result
