"""Cancel at every stage (issue 9): the run stops at once, the engine is idle again, and the
next run gives exactly what an uninterrupted run on a fresh engine gives. The engines here;
writing outputs, the window and Ctrl+C in test_cancel_outputs_gui_cli.py.

FaceLift runs use the tiny conformance weights in the release layout (4 diffusion steps, a
2-layer GS-LRM), so "every step" really is every step; the instant engine runs as shipped.
Cancels are injected deterministically: a progress callback that cancels on a given event
(CancelAt), or a hook inside a stage's work (WorkLog.on).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pytest
from cancel_cases import (
    ASTRONAUT,
    STEPS,
    CancelAt,
    WorkLog,
    assert_same_result,
    cancel_during,
    engine_threads,
    facelift_request,
)

from engine.api import Cancelled, CancelToken, ReconstructionRequest, ReconstructionResult
from engine.engines import FaceLiftEngine, InstantEngine

LAYERS = 2  # transformer layers of the tiny GS-LRM


def _instant_request() -> ReconstructionRequest:
    return ReconstructionRequest(ASTRONAUT)


def _point_ids(points: Sequence[tuple[object, ...]]) -> list[str]:
    """Test ids of cancel points ``(stage, step, ...)``: "stage-step"."""
    return [f"{stage}-{step}" for stage, step, *_ in points]


@dataclass
class FaceLiftCase:
    """One FaceLift cancel case on the module's engine: its request, the log of the work the
    stages did, and the token the case cancels."""

    engine: FaceLiftEngine
    reference: ReconstructionResult
    request: ReconstructionRequest
    work: WorkLog
    token: CancelToken = field(default_factory=CancelToken)

    def assert_work_counts(self, limits: dict[str, int]) -> None:
        """Each work named in ``limits`` ran exactly the number of times given there."""
        for name, allowed in limits.items():
            ran = self.work.count(name)
            assert ran == allowed, f"{name}: ran {ran}x, allowed {allowed}"

    def assert_next_run_is_unchanged(self) -> None:
        """The same request again (work log cleared, a new token) gives the reference result."""
        self.work.clear()
        assert_same_result(self.engine.run(self.request, cancel=CancelToken()), self.reference)


FaceLiftCases = Callable[[bool], FaceLiftCase]


@pytest.fixture
def facelift_case(
    facelift_engine: FaceLiftEngine, facelift_reference: ReconstructionResult, monkeypatch: pytest.MonkeyPatch
) -> FaceLiftCases:
    """Factory: facelift_case(front_end) -> a FaceLiftCase. Cases about diffusion and GS-LRM
    (front_end False) skip the front end (face search, matting, instant preview: ~1 s a run):
    they feed the reference's own 512x512 crop with preprocess=False and no preview, which gives
    the same views and Gaussians."""

    def make(front_end: bool) -> FaceLiftCase:
        if front_end:
            request = facelift_request()
        else:
            monkeypatch.setattr(facelift_engine, "preview", False)
            request = facelift_request(image=facelift_reference.input_image, preprocess=False)
        return FaceLiftCase(facelift_engine, facelift_reference, request, WorkLog(monkeypatch))

    return make


@pytest.fixture(scope="module")
def instant_reference() -> ReconstructionResult:
    return InstantEngine().run(_instant_request())


@pytest.fixture(scope="module")
def instant_engine() -> InstantEngine:
    return InstantEngine()


# ---------------------------------------------------------------------------------------------
# FaceLift engine: preprocess, preview, each diffusion step, each GS-LRM layer
# ---------------------------------------------------------------------------------------------

# (cancel event stage, step) -> what must not have run: {work name: calls allowed}
FACELIFT_POINTS: list[tuple[str, int, dict[str, int]]] = [
    ("preprocess", 0, {"face search": 0, "matting": 0, "instant": 0, "encode": 0}),
    ("preview", 1, {"encode": 0, "denoise": 0}),
    ("diffusion", 0, {"encode": 0, "denoise": 0}),
    *[("diffusion", k, {"denoise": k, "decode": 0, "gslrm block": 0}) for k in range(1, STEPS + 1)],
    *[("gslrm", k, {"gslrm block": k, "gslrm heads": 0}) for k in range(1, LAYERS + 1)],
]


@pytest.mark.parametrize(("stage", "step", "limits"), FACELIFT_POINTS, ids=_point_ids(FACELIFT_POINTS))
def test_facelift_cancel_at_event_then_next_run_is_unchanged(
    facelift_case: FaceLiftCases, stage: str, step: int, limits: dict[str, int]
) -> None:
    case = facelift_case(stage in ("preprocess", "preview"))
    engine = case.engine
    models_before = (engine._mv, engine._lrm)
    threads_before = engine_threads()
    at = CancelAt(case.token, stage, step)

    with pytest.raises(Cancelled):
        engine.run(case.request, at, case.token)

    assert at.hit
    assert at.after() == [], f"progress went on after the cancel: {at.after()}"
    case.assert_work_counts(limits)
    if stage in ("preprocess", "preview", "diffusion"):
        assert case.work.count("gslrm block") == 0  # GS-LRM never starts after an earlier cancel
    _assert_idle(engine, models_before)
    assert engine_threads() <= threads_before

    case.assert_next_run_is_unchanged()
    assert case.work.count("denoise") == STEPS and case.work.count("gslrm block") == LAYERS


def _assert_idle(engine: FaceLiftEngine, models_before: tuple[object, object]) -> None:
    """The models the engine had are still loaded and usable (or were never loaded)."""
    mv_before, lrm_before = models_before
    if lrm_before is not None:
        assert engine._lrm is lrm_before and engine._lrm._model is not None
    if mv_before is not None and not engine.frees_diffusion_before_gslrm():
        assert engine._mv is mv_before and engine._mv._comps is not None


# Cancels made *inside* a stage's work (not on a progress event), during its first call: the
# stage's own checks stop it. {work name: {work name: calls allowed}}
INSIDE_POINTS: dict[str, dict[str, int]] = {
    "face search": {"matting": 0, "instant": 0},
    "matting": {"instant": 0, "encode": 0},
    "instant": {"encode": 0},  # the instant preview
    "encode": {"denoise": 0, "decode": 0},
    "gslrm block": {"gslrm block": 1, "gslrm heads": 0},
}


@pytest.mark.parametrize(("work_name", "limits"), INSIDE_POINTS.items(), ids=list(INSIDE_POINTS))
def test_facelift_cancel_inside_a_stage_stops_before_the_next_unit_of_work(
    facelift_case: FaceLiftCases, work_name: str, limits: dict[str, int]
) -> None:
    case = facelift_case(work_name in ("face search", "matting", "instant"))
    case.work.on[work_name] = cancel_during(case.token, 1)
    events: list[tuple[str, int]] = []

    with pytest.raises(Cancelled):
        case.engine.run(case.request, lambda e: events.append((e.stage, e.step)), case.token)

    case.assert_work_counts(limits)
    if work_name != "gslrm block":
        assert case.work.count("gslrm block") == 0 and not any(stage == "gslrm" for stage, _ in events)
    case.assert_next_run_is_unchanged()


def test_gslrm_checks_cancel_between_every_layer_of_a_deep_model() -> None:
    """GS-LRM has 24 layers (~1 min each on a CPU): a cancel during layer k stops before k+1.

    A randomly initialised 6-layer model (same code as the released one) at 64x64 views.
    """
    import torch

    from engine.gslrm.config import GSLRMConfig
    from engine.gslrm.model import GSLRM
    from engine.gslrm.reconstructor import GSLRMReconstructor

    model = GSLRM(GSLRMConfig(d=32, d_head=16, n_layer=6, image_size=64))
    model.reset_parameters(torch.Generator().manual_seed(0))
    model.eval().requires_grad_(False)
    lrm = GSLRMReconstructor(model, torch.device("cpu"), "fp32")
    views = np.random.default_rng(0).integers(0, 256, (6, 64, 64, 3), dtype=np.uint8)
    reference = lrm.reconstruct(views, apply_filter=False)

    ran: list[int] = []
    for k in range(1, 7):
        token = CancelToken()
        ran.clear()

        def during(_module: object, _inputs: object, k: int = k, token: CancelToken = token) -> None:
            ran.append(len(ran) + 1)
            if len(ran) == k:
                token.cancel()  # the user presses Cancel while layer k runs

        hooks = [layer.register_forward_pre_hook(during) for layer in model.transformer_layers]
        try:
            with pytest.raises(Cancelled):
                lrm.reconstruct(views, apply_filter=False, cancel=token)
        finally:
            for h in hooks:
                h.remove()
        assert ran == list(range(1, k + 1)), f"cancel during layer {k}: layers {ran} ran"

    again = lrm.reconstruct(views, apply_filter=False)  # and the model still works, unchanged
    np.testing.assert_array_equal(again.xyz, reference.xyz)
    np.testing.assert_array_equal(again.opacity_logits, reference.opacity_logits)


# ---------------------------------------------------------------------------------------------
# Instant engine: preprocess and each of its stages
# ---------------------------------------------------------------------------------------------

INSTANT_POINTS: list[tuple[str, int]] = [("preprocess", 0), *[("instant", k) for k in range(6)]]


@pytest.mark.parametrize(("stage", "step"), INSTANT_POINTS, ids=_point_ids(INSTANT_POINTS))
def test_instant_cancel_at_each_stage_then_next_run_is_unchanged(
    instant_engine: InstantEngine,
    instant_reference: ReconstructionResult,
    monkeypatch: pytest.MonkeyPatch,
    stage: str,
    step: int,
) -> None:
    loaded_before = instant_engine._recon
    token = CancelToken()
    at = CancelAt(token, stage, step)
    with pytest.raises(Cancelled):
        instant_engine.run(_instant_request(), at, token)
    assert at.after() == []
    assert loaded_before is None or instant_engine._recon is loaded_before
    assert_same_result(instant_engine.run(_instant_request()), instant_reference)
