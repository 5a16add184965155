"""Helpers for the cancel-at-every-stage tests (issue 9, "Runs and faults").

* ``CancelAt``: an ``on_progress`` callback that records every event and cancels its token
  the first time it sees a given ``(stage, step)`` event -- a deterministic "user pressed
  Cancel right then".
* ``WorkLog``: counts the real work each stage did, by wrapping the stage functions (face
  search, matting, instant reconstruction, diffusion encode / denoising step / decode, GS-LRM
  transformer block / Gaussian heads), so a test can assert that nothing ran after the cancel.
* ``assert_same_result``: two ReconstructionResults are the same reconstruction.
* ``snapshot``: every file under a folder with its bytes, to prove a folder is unchanged.
* ``facelift_request``: the FaceLift request of the cases (the astronaut, ``STEPS`` steps).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine.api import CancelToken, ProgressEvent, ReconstructionRequest, ReconstructionResult
from engine.settings import RunOptions

REPO = Path(__file__).resolve().parents[2]
ASTRONAUT = REPO / "resources" / "samples" / "astronaut.png"


@dataclass
class CancelAt:
    """on_progress that cancels ``token`` on the first event with this stage (and step)."""

    token: CancelToken
    stage: str
    step: int | None = None
    events: list[ProgressEvent] = field(default_factory=list)
    hit_index: int | None = None

    def __call__(self, event: ProgressEvent) -> None:
        self.events.append(event)
        if (
            self.hit_index is None
            and event.stage == self.stage
            and (self.step is None or event.step == self.step)
        ):
            self.hit_index = len(self.events) - 1
            self.token.cancel()

    @property
    def hit(self) -> bool:
        return self.hit_index is not None

    def after(self) -> list[tuple[str, int]]:
        """(stage, step) of every event reported after the cancel."""
        assert self.hit_index is not None, "the cancel point was never reached"
        return [(e.stage, e.step) for e in self.events[self.hit_index + 1 :]]


class WorkLog:
    """Counts calls of the stages' work functions (installed with monkeypatch).

    Names: "face search", "matting", "instant", "encode", "denoise" (one per diffusion step),
    "decode", "gslrm block" (one per transformer layer), "gslrm heads". ``on`` maps a name to a
    hook run before that work (e.g. to cancel *during* a stage); ``order`` is the call order.
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import engine.gslrm.model as gslrm_model
        import engine.instant.reconstructor as instant_mod
        import engine.mvdiffusion.sampler as sampler
        import engine.preprocess.mediapipe_graphs as mpg
        import engine.preprocess.prepare as prepare

        self.order: list[str] = []
        self.on: dict[str, Callable[[int], None]] = {}
        self._lock = threading.Lock()
        wrap = self._wrap
        monkeypatch.setattr(prepare, "find_face", wrap("face search", prepare.find_face))
        monkeypatch.setattr(mpg, "segment_person", wrap("matting", mpg.segment_person))
        head = instant_mod.InstantReconstructor.reconstruct  # every instant reconstruction runs it
        monkeypatch.setattr(instant_mod.InstantReconstructor, "reconstruct", wrap("instant", head))
        monkeypatch.setattr(sampler, "encode_condition", wrap("encode", sampler.encode_condition))
        monkeypatch.setattr(sampler, "ddim_step", wrap("denoise", sampler.ddim_step))
        monkeypatch.setattr(sampler, "decode", wrap("decode", sampler.decode))
        block = gslrm_model.TransformerBlock.forward
        monkeypatch.setattr(gslrm_model.TransformerBlock, "forward", wrap("gslrm block", block))
        monkeypatch.setattr(gslrm_model, "_to_gaussians", wrap("gslrm heads", gslrm_model._to_gaussians))

    def _wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                self.order.append(name)
                n = self.order.count(name)
            hook = self.on.get(name)
            if hook is not None:
                hook(n)
            return fn(*args, **kwargs)

        return wrapper

    def count(self, name: str) -> int:
        return self.order.count(name)

    def clear(self) -> None:
        self.order.clear()
        self.on.clear()


def cancel_during(token: CancelToken, nth: int) -> Callable[[int], None]:
    """A WorkLog hook that cancels while the ``nth`` call of that work runs."""

    def hook(n: int) -> None:
        if n == nth:
            token.cancel()

    return hook


def assert_same_result(got: ReconstructionResult, want: ReconstructionResult) -> None:
    """Same input crop, same six views (bit for bit), same Gaussians (to float32 noise)."""
    np.testing.assert_array_equal(got.input_image, want.input_image)
    if want.views is None:
        assert got.views is None
    else:
        assert got.views is not None
        np.testing.assert_array_equal(got.views, want.views)
    g, w = got.gaussians, want.gaussians
    assert len(g) == len(w), f"{len(g)} Gaussians, expected {len(w)}"
    for name in ("xyz", "sh_dc", "sh_rest", "log_scales", "quats", "opacity_logits"):
        np.testing.assert_allclose(getattr(g, name), getattr(w, name), rtol=0, atol=1e-6, err_msg=name)


def snapshot(folder: Path) -> dict[str, bytes]:
    """{relative path: bytes} of every file under ``folder`` (hidden ones included)."""
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def engine_threads() -> set[str]:
    """Names of the Python threads alive now (a cancelled run must not leave one behind)."""
    return {t.name for t in threading.enumerate() if t.is_alive()}


class ProgressGate:
    """Holds the GUI's engine worker at one progress event until the test lets it go.

    Connected directly (it runs on the worker thread, before the engine's next cancel check),
    so the GUI thread can act -- see the stage on the progress panel, press Cancel -- while the
    run is known to be exactly at that event.
    """

    def __init__(self, signal: Any, stage: str, step: int) -> None:
        from PySide6.QtCore import Qt

        self.stage, self.step = stage, step
        self.reached = threading.Event()
        self.release = threading.Event()
        self._signal = signal
        signal.connect(self._on_progress, Qt.ConnectionType.DirectConnection)

    def _on_progress(self, event: ProgressEvent) -> None:
        if not self.reached.is_set() and (event.stage, event.step) == (self.stage, self.step):
            self.reached.set()
            self.release.wait(30)

    def close(self) -> None:
        self.release.set()
        self._signal.disconnect(self._on_progress)


def interrupt_cli(
    args: list[str], wait_for: str, timeout: float = 240, *, terminate: bool = False
) -> tuple[int, str]:
    """Run ``facelift ARGS`` like a terminal would and press Ctrl+C once ``wait_for`` shows up
    on its stderr (tqdm's progress text). Ctrl+C signals the whole foreground process group,
    so the CLI gets its own group and SIGINT goes to all of it (ffmpeg included).
    ``terminate``: send SIGTERM to the facelift process alone instead (``kill PID``), so its
    ffmpeg child is not signalled and must be stopped by facelift itself.

    Returns (exit code, everything written to stderr).
    """
    import os
    import signal
    import time

    from reliability_harness import start_cli_as_terminal_job

    proc = start_cli_as_terminal_job(args)
    assert proc.stderr is not None
    os.set_blocking(proc.stderr.fileno(), False)
    seen = b""
    deadline = time.monotonic() + timeout
    sent = False
    while proc.poll() is None and time.monotonic() < deadline:
        chunk = proc.stderr.read() or b""
        seen += chunk
        if not sent and wait_for.encode() in seen:
            if terminate:
                os.kill(proc.pid, signal.SIGTERM)
            else:
                os.killpg(proc.pid, signal.SIGINT)
            sent = True
        time.sleep(0.02)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise AssertionError(f"facelift did not end in {timeout} s; stderr:\n{seen.decode(errors='replace')}")
    os.set_blocking(proc.stderr.fileno(), True)
    seen += proc.stderr.read()
    text = seen.decode("utf-8", "replace")
    assert sent, f"{wait_for!r} never appeared before the run ended (exit {proc.returncode}):\n{text}"
    return proc.returncode, text


STEPS = 4  # diffusion steps of the FaceLift runs here
"""Diffusion steps of the FaceLift cancel cases (tiny conformance weights)."""


def facelift_request(image: object = ASTRONAUT, **kw: object) -> ReconstructionRequest:
    """A FaceLift request of the cancel cases: the astronaut, STEPS diffusion steps."""
    kw.setdefault("num_steps", STEPS)
    return ReconstructionRequest(image, RunOptions(**kw))  # type: ignore[arg-type]
