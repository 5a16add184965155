"""The FaceLift engine: preprocess -> instant preview -> multi-view diffusion (V views) -> GS-LRM.

The weights folder describes itself (engine.weights.model_folder): its cameras (V of them, the
released six by default) are the ones GS-LRM uses and output.png renders from, and its framing
is the default preprocessing of a run.

Every run uses its own seeded generator (inside MultiViewDiffusion), so a result does not
depend on what ran before it -- unlike FaceLift's inference.py, whose single generator made
image k's result depend on the images before it in the batch.

``ReconstructionResult.gaussians`` is the filtered set (the reference's filters, see
engine.settings FILTER_*). The engine also keeps the unfiltered GS-LRM output in
``result.info["unfiltered_gaussians"]``, because the reference renders output.png from the
unfiltered set (spec §6.2) while gaussians.ply and the turntable use the filtered one.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from engine.api import GaussiansPreview, ProgressCallback, ProgressEvent, ReconstructionResult, no_progress
from engine.engines.base import Engine, RunContext, prepared_info
from engine.engines.instant import InstantEngine
from engine.errors import WeightsError
from engine.io.images import resize_square
from engine.oom import oom_guard
from engine.settings import (
    KEEP_DIFFUSION_MIN_RAM,
    KEEP_DIFFUSION_MIN_VRAM,
    MEMORY_PRESETS,
    DeviceName,
    EngineConfig,
    MemoryPresetName,
)

if TYPE_CHECKING:
    from engine.gslrm.reconstructor import GSLRMReconstructor
    from engine.mvdiffusion.pipeline import MultiViewDiffusion
    from engine.weights.model_folder import ModelDescription


class FaceLiftEngine(Engine):
    """FaceLift: preprocess -> instant preview -> multi-view diffusion (6 views) -> GS-LRM -> filter.

    Models load lazily on the first ``load``/``run`` and stay loaded; with a memory preset that
    asks for it the diffusion models are freed before GS-LRM runs (and loaded again next run).
    """

    name = "facelift"

    def __init__(
        self,
        weights_dir: Path | str,
        device: DeviceName = "auto",
        memory_preset: MemoryPresetName = "auto",
        preview: bool = True,
    ) -> None:
        """weights_dir: the weights folder (engine.weights.require_weights finds one).
        The configuration is fixed for the engine's life (``config``): a run with another
        device, preset or folder needs another engine (engine.engines.make_engine).
        preview: send the instant engine's head as a quick preview first."""
        self.config = EngineConfig("facelift", Path(weights_dir), device, memory_preset)
        self.preview = preview
        self._mv: MultiViewDiffusion | None = None
        self._lrm: GSLRMReconstructor | None = None
        self._model: ModelDescription | None = None
        self._instant = InstantEngine()

    @property
    def weights_dir(self) -> Path:
        """The weights folder. Raises WeightsError when it is not (or no longer) a folder."""
        assert self.config.weights_dir is not None  # always set by __init__
        if not self.config.weights_dir.is_dir():
            raise WeightsError(f"{self.config.weights_dir}: weights folder not found")
        return self.config.weights_dir

    @property
    def model(self) -> ModelDescription:
        """The weights folder's own description: cameras, views, default framing (read once;
        engine.weights.model_folder). Raises WeightsError naming the file for a broken folder."""
        if self._model is None:
            from engine.weights.model_folder import describe_model

            self._model = describe_model(self.weights_dir)
        return self._model

    def describe(self) -> str:
        return f"FaceLift engine (weights: {self.config.weights_dir})"

    # ---- model lifetime ----------------------------------------------------------------

    def _load_diffusion(self, on_progress: ProgressCallback) -> MultiViewDiffusion:
        if self._mv is None:
            from engine.mvdiffusion.pipeline import MultiViewDiffusion

            on_progress(ProgressEvent("load", 0, 2, "loading the multi-view diffusion models"))
            with self._oom_guard("loading the diffusion models"):
                self._mv = MultiViewDiffusion.from_weights(
                    self.weights_dir, device=self.config.device, memory_preset=self.config.memory_preset
                )
        return self._mv

    def _load_gslrm(self, on_progress: ProgressCallback) -> GSLRMReconstructor:
        if self._lrm is None:
            from engine.gslrm.reconstructor import GSLRMReconstructor

            on_progress(ProgressEvent("load", 1, 2, "loading GS-LRM"))
            with self._oom_guard("loading GS-LRM"):
                self._lrm = GSLRMReconstructor.from_weights(self.weights_dir, device=self.config.device)
        return self._lrm

    def load(self, on_progress: ProgressCallback = no_progress) -> None:
        """Load both networks (no-op for those already loaded). Raises WeightsError, OutOfMemory."""
        self.model  # noqa: B018 - a broken model folder is reported before any network loads
        self._load_diffusion(on_progress)
        self._load_gslrm(on_progress)
        on_progress(ProgressEvent("load", 2, 2, "FaceLift models ready"))

    def unload_diffusion(self) -> None:
        if self._mv is not None:
            self._mv.unload()
            self._mv = None

    def unload(self) -> None:
        self.unload_diffusion()
        if self._lrm is not None:
            self._lrm.unload()
            self._lrm = None
        self._instant.unload()

    def frees_diffusion_before_gslrm(self) -> bool:
        """Whether the memory preset asks to free the diffusion models before GS-LRM runs
        (engine.settings.MEMORY_PRESETS; "auto" and "cpu" decide by the memory present)."""
        device, preset = self.config.device, self.config.memory_preset
        frees = MEMORY_PRESETS[preset].frees_diffusion
        if frees is not None:
            return frees
        import psutil
        import torch

        if preset == "auto" and device != "cpu" and torch.cuda.is_available():
            return bool(torch.cuda.get_device_properties(0).total_memory < KEEP_DIFFUSION_MIN_VRAM)
        return bool(psutil.virtual_memory().available < KEEP_DIFFUSION_MIN_RAM)

    def _oom_guard(self, what: str) -> AbstractContextManager[None]:
        """Running out of memory inside becomes one engine.errors.OutOfMemory (engine.oom) that
        suggests the next lower memory preset, after every model is freed."""
        config = self.config
        return oom_guard(what, device=config.device, memory_preset=config.memory_preset, free=self.unload)

    # ---- run ---------------------------------------------------------------------------

    def _reconstruct(self, run: RunContext) -> ReconstructionResult:
        """One reconstruction with this engine's configuration."""
        request, on_progress, token = run.request, run.on_progress, run.cancel
        model = self.model  # a broken model folder stops the run before anything else
        framing = request.options.framing_for(model.framing)
        sampling = request.options.sampling()
        prepared = run.prepare(framing, model.target_ratio)
        info = prepared_info(prepared)
        if self.preview:
            with run.timed("preview"):
                preview = GaussiansPreview(self._instant.preview(prepared, token))
                on_progress(ProgressEvent("preview", 1, 1, "instant preview", preview=preview))
        with run.timed("load"):
            if self._lrm is None:
                # A broken GS-LRM file is reported now, not after minutes of diffusion.
                from engine.gslrm.checkpoint import check_checkpoint

                check_checkpoint(self.weights_dir)
            mv = self._load_diffusion(on_progress)
        token.raise_if_cancelled()
        with run.timed("diffusion"):
            image = resize_square(prepared.image, mv.resolution)
            count = "six" if model.num_views == 6 else str(model.num_views)
            with self._oom_guard(f"generating the {count} views"):
                views = mv.generate(image, **sampling, on_progress=on_progress, cancel=token)
        views = np.asarray(views, dtype=np.uint8)
        if self.frees_diffusion_before_gslrm():
            self.unload_diffusion()
            info["freed_diffusion"] = True
        token.raise_if_cancelled()
        with run.timed("load"):
            lrm = self._load_gslrm(on_progress)
        with run.timed("gslrm"):
            size = lrm.image_size
            lrm_views = (
                views
                if views.shape[1:3] == (size, size)
                else np.stack([resize_square(v, size) for v in views])
            )
            with self._oom_guard("running GS-LRM"):
                raw = lrm.reconstruct(
                    lrm_views,
                    cameras=model.cameras,
                    apply_filter=False,
                    cancel=token,
                    on_progress=on_progress,
                )
            gaussians = raw.filter()
        token.raise_if_cancelled()
        layers = lrm.config.n_layer  # GS-LRM reported k/layers
        on_progress(
            ProgressEvent(
                "gslrm", layers, layers, f"{len(gaussians):,} Gaussians after filtering ({len(raw):,} raw)"
            )
        )
        info.update(
            device=str(lrm.device),
            **sampling,
            unfiltered_gaussians=raw,
            framing=framing,
            model=model.name,
            cameras=model.cameras,
            view_names=model.view_names,
        )
        return run.result(self.name, prepared, gaussians, views, info)
