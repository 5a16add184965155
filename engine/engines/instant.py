"""The instant engine: preprocess -> engine.instant.InstantReconstructor (offline, CPU, mediapipe)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.api import CancelToken, ProgressCallback, ProgressEvent, ReconstructionResult, no_progress
from engine.engines.base import Engine, RunContext, prepared_info
from engine.gaussians import Gaussians
from engine.oom import oom_guard

if TYPE_CHECKING:
    from engine.instant import InstantReconstructor
    from engine.instant.reconstructor import InstantHead
    from engine.preprocess import Prepared


class InstantEngine(Engine):
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

    def preview(self, prepared: Prepared, cancel: CancelToken) -> Gaussians:
        """The Gaussians of an already preprocessed photo, quietly (the FaceLift engine's preview)."""
        return self._head(prepared, no_progress, cancel).gaussians

    def _head(self, prepared: Prepared, on_progress: ProgressCallback, cancel: CancelToken) -> InstantHead:
        with oom_guard("building the instant head", device="cpu"):
            return self._reconstructor().reconstruct(prepared, on_progress=on_progress, cancel=cancel)

    def _reconstruct(self, run: RunContext) -> ReconstructionResult:
        self.load(run.on_progress)
        prepared = run.prepare()
        with run.timed("instant"):
            head = self._head(prepared, run.on_progress, run.cancel)
        run.cancel.raise_if_cancelled()
        info = prepared_info(prepared)
        info.update(device="cpu", unfiltered_gaussians=head.gaussians)
        result = run.result(self.name, prepared, head.gaussians, None, info)
        result.mesh = head.mesh.to_trimesh()  # the fitted head: exports and a later rig use it
        return result
