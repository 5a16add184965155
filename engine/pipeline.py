"""The two engines behind one contract, and the writer of a reconstruction's output folder.

``InstantEngine`` (offline, CPU, mediapipe) and ``FaceLiftEngine`` (multi-view diffusion ->
six views -> GS-LRM) both offer ``load(on_progress)``, ``unload()`` and
``run(request, on_progress, cancel) -> ReconstructionResult``; models load once (lazily, on
the first ``load``/``run``) and stay loaded between runs. ``make_engine`` picks FaceLift when
its weights are found, else the instant engine, and says which. ``write_outputs`` writes the
reference's output folder (input.png, multiview.png, gaussians.ply, output.png, turntable.mp4).

Every run uses its own seeded generator (inside MultiViewDiffusion), so a result does not
depend on what ran before it -- unlike FaceLift's inference.py, whose single generator made
image k's result depend on the images before it in the batch.

``ReconstructionResult.gaussians`` is the filtered set (the reference's CLI filters: opacity
0.04, scale 0.1, floater 0.6, crop box +-0.91/+-1). The FaceLift engine also keeps the
unfiltered GS-LRM output in ``result.info["unfiltered_gaussians"]``, because the reference renders
output.png from the unfiltered set (spec §6.2) while gaussians.ply and the turntable use the
filtered one.
"""

from __future__ import annotations

import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np

from engine.api import (
    CancelToken,
    OutOfMemory,
    OutputError,
    ProgressCallback,
    ProgressEvent,
    ReconstructionRequest,
    ReconstructionResult,
    WeightsError,
    no_progress,
)
from engine.gaussians import Gaussians
from engine.io.images import resize_square
from engine.settings import (
    KEEP_DIFFUSION_MIN_RAM,
    KEEP_DIFFUSION_MIN_VRAM,
    MEMORY_PRESETS,
    RENDER_SIZE,
    TURNTABLE_FPS,
    TURNTABLE_FRAMES,
    DeviceName,
    EngineConfig,
    MemoryPresetName,
    lower_preset,
)

OUTPUT_FILES: tuple[str, ...] = ("input.png", "multiview.png", "gaussians.ply", "output.png", "turntable.mp4")
"""Everything ``write_outputs`` may write into an output folder (multiview.png: FaceLift only)."""

T = TypeVar("T")


class Engine(Protocol):
    """What the GUI worker and the CLI need from an engine."""

    name: str

    def describe(self) -> str: ...

    def load(self, on_progress: ProgressCallback = no_progress) -> None: ...

    def unload(self) -> None: ...

    def run(
        self,
        request: ReconstructionRequest,
        on_progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
    ) -> ReconstructionResult: ...


# --------------------------------------------------------------------------------------
# Shared steps
# --------------------------------------------------------------------------------------


def _token(cancel: CancelToken | None) -> CancelToken:
    return cancel if cancel is not None else CancelToken()


def _prepare(request: ReconstructionRequest, on_progress: ProgressCallback, cancel: CancelToken) -> Any:
    """Preprocess the request's photo: FaceLift framing (auto_crop), whole photo, or as given."""
    from engine.preprocess import prepare_given, preprocess_photo

    cancel.raise_if_cancelled()
    on_progress(ProgressEvent("preprocess", 0, 1, f"preprocessing {request.describe_image()}"))
    image = request.image if isinstance(request.image, np.ndarray) else Path(request.image)
    if request.options.preprocess:
        prepared = preprocess_photo(image, auto_crop=request.options.auto_crop, cancel=cancel)
    else:
        prepared = prepare_given(image)
    cancel.raise_if_cancelled()  # the matting at its end has no check of its own
    on_progress(ProgressEvent("preprocess", 1, 1, "preprocessed", preview=prepared.image))
    return prepared


def _prepared_info(prepared: Any) -> dict[str, Any]:
    return {
        "face_box": prepared.face_box,
        "score": prepared.score,
        "notes": list(prepared.notes),
        "landmarks": prepared.landmarks,
    }


def _result(
    engine: str,
    prepared: Any,
    gaussians: Gaussians,
    views: np.ndarray | None,
    timings: dict[str, float],
    info: dict[str, Any],
) -> ReconstructionResult:
    """An engine's result: its Gaussians, the prepared input crop and matte, views or None."""
    return ReconstructionResult(
        gaussians=gaussians,
        input_image=prepared.image,
        input_alpha=prepared.alpha,
        views=views,
        engine=engine,
        timings=timings,
        info=info,
    )


@contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    t0 = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - t0


# --------------------------------------------------------------------------------------
# Instant engine
# --------------------------------------------------------------------------------------


class InstantEngine:
    """The built-in offline engine: preprocess -> engine.instant.InstantReconstructor."""

    name = "instant"

    def __init__(self, reason: str = "") -> None:
        self.reason = reason
        self._recon: Any = None

    def describe(self) -> str:
        return "instant engine" + (f" ({self.reason})" if self.reason else "")

    def load(self, on_progress: ProgressCallback = no_progress) -> None:
        if self._recon is None:
            from engine.instant import InstantReconstructor  # type: ignore[attr-defined]  # until it lands

            on_progress(ProgressEvent("load", 0, 1, "loading the instant engine"))
            self._recon = InstantReconstructor()
            on_progress(ProgressEvent("load", 1, 1, "instant engine ready"))

    def unload(self) -> None:
        self._recon = None

    def reconstruct_prepared(
        self, prepared: Any, on_progress: ProgressCallback = no_progress, cancel: CancelToken | None = None
    ) -> Gaussians:
        """Gaussians from an already preprocessed photo (also the FaceLift engine's preview)."""
        self.load()
        return self._recon.run(prepared, on_progress=on_progress, cancel=cancel)  # type: ignore[no-any-return]

    def run(
        self,
        request: ReconstructionRequest,
        on_progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
    ) -> ReconstructionResult:
        token = _token(cancel)
        timings: dict[str, float] = {}
        self.load(on_progress)
        with _timed(timings, "preprocess"):
            prepared = _prepare(request, on_progress, token)
        with _timed(timings, "instant"):
            gaussians = self.reconstruct_prepared(prepared, on_progress, token)
        token.raise_if_cancelled()
        info = _prepared_info(prepared)
        info.update(device="cpu", unfiltered_gaussians=gaussians)
        return _result(self.name, prepared, gaussians, None, timings, info)


# --------------------------------------------------------------------------------------
# FaceLift engine
# --------------------------------------------------------------------------------------


def _oom_errors() -> tuple[type[BaseException], ...]:
    import torch

    return (torch.OutOfMemoryError, MemoryError, OutOfMemory)


class FaceLiftEngine:
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
        device, preset or folder needs another engine (engine.pipeline.make_engine).
        preview: send the instant engine's head as a quick preview first."""
        self.config = EngineConfig("facelift", Path(weights_dir), device, memory_preset)
        self.preview = preview
        self._mv: Any = None
        self._lrm: Any = None
        self._instant = InstantEngine()

    @property
    def device(self) -> DeviceName:
        return self.config.device

    @property
    def memory_preset(self) -> MemoryPresetName:
        return self.config.memory_preset

    @property
    def weights_dir(self) -> Path:
        """The weights folder. Raises WeightsError when it is not (or no longer) a folder."""
        assert self.config.weights_dir is not None  # always set by __init__
        if not self.config.weights_dir.is_dir():
            raise WeightsError(f"{self.config.weights_dir}: weights folder not found")
        return self.config.weights_dir

    def describe(self) -> str:
        return f"FaceLift engine (weights: {self.config.weights_dir})"

    # ---- model lifetime ----------------------------------------------------------------

    def _load_diffusion(self, on_progress: ProgressCallback) -> Any:
        if self._mv is None:
            from engine.mvdiffusion.pipeline import MultiViewDiffusion

            on_progress(ProgressEvent("load", 0, 2, "loading the multi-view diffusion models"))
            self._mv = self._guard_oom(
                "loading the diffusion models",
                lambda: MultiViewDiffusion.from_weights(
                    self.weights_dir, device=self.device, memory_preset=self.memory_preset
                ),
            )
        return self._mv

    def _load_gslrm(self, on_progress: ProgressCallback) -> Any:
        if self._lrm is None:
            from engine.gslrm.reconstructor import GSLRMReconstructor

            on_progress(ProgressEvent("load", 1, 2, "loading GS-LRM"))
            self._lrm = self._guard_oom(
                "loading GS-LRM",
                lambda: GSLRMReconstructor.from_weights(self.weights_dir, device=self.device),
            )
        return self._lrm

    def load(self, on_progress: ProgressCallback = no_progress) -> None:
        """Load both networks (no-op for those already loaded). Raises WeightsError, OutOfMemory."""
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
        frees = MEMORY_PRESETS[self.memory_preset].frees_diffusion
        if frees is not None:
            return frees
        import psutil
        import torch

        if self.memory_preset == "auto" and self.device != "cpu" and torch.cuda.is_available():
            return bool(torch.cuda.get_device_properties(0).total_memory < KEEP_DIFFUSION_MIN_VRAM)
        return bool(psutil.virtual_memory().available < KEEP_DIFFUSION_MIN_RAM)

    def _guard_oom(self, what: str, fn: Callable[[], T]) -> T:
        """Run fn; an out-of-memory error frees every model and becomes engine.api.OutOfMemory
        (one line that suggests a lower memory preset)."""
        try:
            return fn()
        except _oom_errors() as exc:
            self.unload()
            # The traceback's frames still hold the networks (the forward pass's locals): clear
            # them so the models are really freed while the caller holds the error.
            _release_frames(exc)
            lower = lower_preset(self.memory_preset, self.device)
            tip = (
                f'Try the lower memory preset "{lower}".'
                if lower
                else "Close other programs that use the memory, then try again."
            )
            raise OutOfMemory(
                f"out of memory while {what} (device {self.device}, memory preset {self.memory_preset}); "
                f"the models were freed. {tip}",
                details=" ".join(str(exc).split()),
                suggested_preset=lower,
            ) from exc

    # ---- run ---------------------------------------------------------------------------

    def run(
        self,
        request: ReconstructionRequest,
        on_progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
    ) -> ReconstructionResult:
        """One reconstruction with this engine's configuration.
        Raises InputError, WeightsError, OutOfMemory, Cancelled."""
        token = _token(cancel)
        timings: dict[str, float] = {}
        with _timed(timings, "preprocess"):
            prepared = _prepare(request, on_progress, token)
        info = _prepared_info(prepared)
        if self.preview:
            with _timed(timings, "preview"):
                self._send_preview(prepared, on_progress, token, info)
        with _timed(timings, "load"):
            if self._lrm is None:
                # A broken GS-LRM file is reported now, not after minutes of diffusion.
                from engine.gslrm.checkpoint import check_checkpoint

                check_checkpoint(self.weights_dir)
            mv = self._load_diffusion(on_progress)
        token.raise_if_cancelled()
        with _timed(timings, "diffusion"):
            image = resize_square(prepared.image, int(mv.resolution))
            views = self._guard_oom(
                "generating the six views",
                lambda: mv.generate(
                    image,
                    seed=request.options.seed,
                    guidance_scale=request.options.guidance_scale,
                    num_steps=request.options.num_steps,
                    on_progress=on_progress,
                    cancel=token,
                ),
            )
        views = np.asarray(views, dtype=np.uint8)
        if self.frees_diffusion_before_gslrm():
            self.unload_diffusion()
            info["freed_diffusion"] = True
        token.raise_if_cancelled()
        with _timed(timings, "load"):
            lrm = self._load_gslrm(on_progress)
        with _timed(timings, "gslrm"):
            size = int(lrm.image_size)
            lrm_views = (
                views
                if views.shape[1:3] == (size, size)
                else np.stack([resize_square(v, size) for v in views])
            )
            raw = self._guard_oom(
                "running GS-LRM",
                lambda: lrm.reconstruct(
                    lrm_views, cameras=None, apply_filter=False, cancel=token, on_progress=on_progress
                ),
            )
            gaussians = raw.filter()
        token.raise_if_cancelled()
        layers = int(getattr(getattr(lrm, "config", None), "n_layer", 1))  # GS-LRM reported k/layers
        on_progress(
            ProgressEvent(
                "gslrm", layers, layers, f"{len(gaussians):,} Gaussians after filtering ({len(raw):,} raw)"
            )
        )
        info.update(
            device=str(getattr(lrm, "device", self.device)),
            seed=request.options.seed,
            guidance_scale=request.options.guidance_scale,
            num_steps=request.options.num_steps,
            unfiltered_gaussians=raw,
        )
        return _result(self.name, prepared, gaussians, views, timings, info)

    def _send_preview(
        self, prepared: Any, on_progress: ProgressCallback, cancel: CancelToken, info: dict[str, Any]
    ) -> None:
        """The instant engine's head as a quick preview (ProgressEvent stage "preview")."""
        try:
            preview = self._instant.reconstruct_prepared(prepared, no_progress, cancel)
        except ImportError as exc:  # no instant engine in this build: the preview is optional
            info.setdefault("notes", []).append(f"no instant preview ({exc})")
            return
        on_progress(ProgressEvent("preview", 1, 1, "instant preview", preview=preview))


def _release_frames(exc: BaseException) -> None:
    """Clear the local variables of the finished frames in ``exc``'s tracebacks (and its causes')."""
    import traceback

    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        traceback.clear_frames(e.__traceback__)
        todo.extend((e.__cause__, e.__context__))


# --------------------------------------------------------------------------------------
# Choosing an engine
# --------------------------------------------------------------------------------------


def make_engine(config: EngineConfig) -> Engine:
    """The engine for ``config`` (the CLI, the window's worker and batch runs all use this).

    engine "instant": the instant engine. "facelift": FaceLift with the weights folder found
    from ``config.weights_dir`` (engine.weights.find_weights; NoWeights when there is none).
    None: FaceLift when its weights are found, else the instant engine, whose ``describe()``
    says that none were found. An explicit ``weights_dir`` that is not a folder raises
    WeightsError. Nothing loads here: models load on the engine's first ``load``/``run``.
    """
    from engine.weights import find_weights, missing_weights

    if config.engine == "instant":
        return InstantEngine()
    found = find_weights(config.weights_dir)
    if found is None:
        if config.engine == "facelift":
            raise missing_weights(config.weights_dir)
        return InstantEngine(reason=str(missing_weights(config.weights_dir)))
    return FaceLiftEngine(found, device=config.device, memory_preset=config.memory_preset)


# --------------------------------------------------------------------------------------
# Output folder
# --------------------------------------------------------------------------------------


def existing_outputs(out_dir: Path | str) -> list[str]:
    """The names of OUTPUT_FILES already present in ``out_dir``."""
    out = Path(out_dir)
    return [name for name in OUTPUT_FILES if (out / name).exists()]


def check_can_write(out_dir: Path | str, overwrite: bool = False) -> None:
    """OutputError (one line) when ``out_dir`` holds earlier outputs and overwrite is off."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder")
    found = existing_outputs(out)
    if found and not overwrite:
        raise OutputError(
            f"{out}: outputs already exist ({', '.join(found)}); use --overwrite to replace them"
        )


def side_by_side(images: np.ndarray) -> np.ndarray:
    """(V,H,W,3) -> (H,V*W,3): the images pasted left to right (the reference's multiview.png)."""
    images = np.asarray(images)
    return np.ascontiguousarray(np.concatenate(list(images), axis=1))


def render_input_views(
    gaussians: Gaussians,
    size: int = RENDER_SIZE,
    background: tuple[float, float, float] = (1.0, 1.0, 1.0),
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """(6,size,size,3) uint8 renders from the six FaceLift input cameras, in slot order."""
    from engine.cameras import facelift_cameras
    from engine.render import prepare, render, to_uint8

    cams = facelift_cameras(size)
    prep, backend = prepare(gaussians)
    out = []
    for i in range(len(cams)):
        if cancel is not None:
            cancel.raise_if_cancelled()
        res = render(prep, cams.c2w[i], cams.fxfycxcy[i], size, size, background, backend)
        out.append(to_uint8(res.rgb))
    return np.stack(out)


def write_outputs(
    result: ReconstructionResult,
    out_dir: Path | str,
    *,
    turntable_frames: int = TURNTABLE_FRAMES,
    fps: float = TURNTABLE_FPS,
    render_size: int = RENDER_SIZE,
    overwrite: bool = False,
    on_progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> dict[str, Path]:
    """Write a result's output folder; returns {file name: path}.

    Files (as FaceLift's inference.py): input.png (the preprocessed 512x512 input; skipped for a
    result opened from a file), multiview.png (the six views side by side; FaceLift engine only),
    gaussians.ply (filtered, FaceLift PLY flavour), output.png (renders from the six input cameras
    side by side, 6*render_size x render_size, from the unfiltered set
    ``result.info["unfiltered_gaussians"]`` when present, as the reference does), turntable.mp4
    (filtered set; ``turntable_frames`` frames at ``fps``, render_size square, H.264 yuv420p;
    0 frames skips it).

    Atomic as a whole: everything is written into a hidden staging folder beside ``out_dir`` and
    moved into place only when all files are done, so a failure or a cancel
    (engine.api.Cancelled) leaves no new or partial file. Existing outputs are refused
    (OutputError) unless ``overwrite``; with ``overwrite`` a stale multiview.png from an earlier
    FaceLift run is removed when the new result has no views.
    """
    from engine.io.export import write_turntable
    from engine.io.images import save_png
    from engine.io.ply import save_ply

    token = _token(cancel)
    out = Path(out_dir)
    check_can_write(out, overwrite)
    staging = out.parent / f".{out.name}.partial-{secrets.token_hex(4)}"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging.mkdir()  # default permissions (mkdtemp's 0700 would stick to the renamed folder)
    except OSError as exc:
        raise OutputError(f"{out}: cannot write ({exc.strerror or exc})") from exc
    steps = 3 + (result.input_image is not None) + (result.views is not None) + (turntable_frames > 0)
    done = 0

    def step(message: str) -> None:
        nonlocal done
        # report, then check: a cancel made on seeing "writing X" stops before X is written
        on_progress(ProgressEvent("write", done, steps, message))
        token.raise_if_cancelled()
        done += 1

    try:
        if result.input_image is not None:
            step("input.png")
            save_png(np.asarray(result.input_image, dtype=np.uint8), staging / "input.png")
        if result.views is not None:
            step("multiview.png")
            save_png(side_by_side(result.views), staging / "multiview.png")
        step("gaussians.ply")
        save_ply(result.gaussians, staging / "gaussians.ply", flavour="facelift")
        step("output.png")
        unfiltered = result.info.get("unfiltered_gaussians", result.gaussians)
        save_png(
            side_by_side(render_input_views(unfiltered, render_size, cancel=token)), staging / "output.png"
        )
        if turntable_frames > 0:
            step("turntable.mp4")
            write_turntable(
                result.gaussians,
                staging / "turntable.mp4",
                num_frames=turntable_frames,
                fps=fps,
                size=render_size,
                on_progress=on_progress,
                cancel=token,
            )
        step("moving the outputs into place")
        written = _commit(staging, out, overwrite, result.views is not None)
    except OutputError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        # Name the file the user asked for, not the hidden staging folder that is now gone.
        raise OutputError(exc.message.replace(str(staging), str(out)), details=exc.details) from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    on_progress(ProgressEvent("write", steps, steps, f"outputs written to {out}"))
    return written


def _commit(staging: Path, out: Path, overwrite: bool, has_views: bool) -> dict[str, Path]:
    """Move the staged files into ``out``: one rename when ``out`` is new, else file by file."""
    names = [n for n in OUTPUT_FILES if (staging / n).exists()]
    try:
        if not out.exists():
            os.rename(staging, out)
        else:
            check_can_write(out, overwrite)
            for n in names:
                os.replace(staging / n, out / n)
            if not has_views and overwrite:
                (out / "multiview.png").unlink(missing_ok=True)
            shutil.rmtree(staging, ignore_errors=True)
    except OSError as exc:
        raise OutputError(f"{out}: cannot move the outputs into place ({exc.strerror or exc})") from exc
    return {n: out / n for n in names}
