"""Back-to-front ordering of splats, computed on a plain background thread.

The GUI thread posts a job (the current view-depth row of the projection, the visible
indices, the level-of-detail budget); the thread sorts with ``numpy.argsort`` (which releases
the GIL) and gathers ready-to-upload attribute arrays. Only the newest job matters: a job
posted while another is being sorted replaces any job still waiting. The GUI thread collects
the result from its own event loop (``take_result``), so no GL call ever happens off it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np

from viewer.splat_data import SplatArrays


@dataclass(frozen=True)
class SortJob:
    """One sort request.

    generation: increases with every data/filter change; stale results are dropped.
    depth_row: (4,) float64, the clip-space w row of the projection: depth = row[:3]·x + row[3].
    visible: (K,) int64 indices into ``arrays`` that pass the filter.
    lod_budget: None sorts every visible splat ("full"); a number sorts only a random subset
        of about that many ("lod", what a moving camera draws), which is far cheaper.
    """

    arrays: SplatArrays
    generation: int
    depth_row: np.ndarray
    visible: np.ndarray
    lod_budget: int | None = None

    @property
    def kind(self) -> str:
        return "full" if self.lod_budget is None else "lod"


@dataclass
class SortResult:
    """A finished sort: attribute arrays in back-to-front order.

    kind: "full" or "lod"; fraction: the share of the visible splats in ``attrs``.
    """

    generation: int
    kind: str
    depth_row: np.ndarray
    attrs: dict[str, np.ndarray]
    fraction: float
    seconds: float
    count: int = field(default=0)


def back_to_front(pos: np.ndarray, visible: np.ndarray, depth_row: np.ndarray) -> np.ndarray:
    """``visible`` (K,) reordered farthest-first along the view depth (clip w)."""
    row = np.asarray(depth_row, dtype=np.float32)
    depth = pos[visible] @ row[:3] + row[3]
    return visible[np.argsort(-depth)]


def lod_subset(visible: np.ndarray, rank: np.ndarray, budget: int) -> tuple[np.ndarray, float]:
    """The part of ``visible`` (order kept) whose fixed random rank is below a threshold.

    About ``budget`` elements; the same splats every time for the same budget, so the
    moving view does not flicker. Returns (indices, fraction); all of them when budget >= len.
    """
    k = len(visible)
    if budget >= k or k == 0:
        return visible, 1.0
    fraction = budget / k
    return visible[rank[visible] < fraction * len(rank)], fraction


def run_job(job: SortJob) -> SortResult:
    """Sort and gather synchronously (what the thread does; also used by ``settle``)."""
    t0 = time.perf_counter()
    candidates, fraction = job.visible, 1.0
    if job.lod_budget is not None:
        candidates, fraction = lod_subset(job.visible, job.arrays.lod_rank, job.lod_budget)
    order = back_to_front(job.arrays.pos, candidates, job.depth_row)
    return SortResult(
        generation=job.generation,
        kind=job.kind,
        depth_row=np.asarray(job.depth_row, dtype=np.float64),
        attrs=job.arrays.gather(order),
        fraction=fraction,
        seconds=time.perf_counter() - t0,
        count=len(order),
    )


class DepthSorter:
    """A single long-lived sorting thread: a one-slot job mailbox, one result slot per kind."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._job: SortJob | None = None
        self._results: dict[str, SortResult] = {}
        self._busy = False
        self._stop = False
        self._thread = threading.Thread(target=self._loop, name="splat-depth-sort", daemon=True)
        self._thread.start()

    def submit(self, job: SortJob) -> None:
        """Queue ``job``, replacing a job that has not started yet."""
        with self._cond:
            self._job = job
            self._cond.notify()

    @property
    def pending(self) -> bool:
        """True while a job waits, runs, or its result has not been taken."""
        with self._cond:
            return self._job is not None or self._busy or bool(self._results)

    def take_results(self) -> list[SortResult]:
        """The newest finished result of each kind (each once), oldest kind first."""
        with self._cond:
            results = sorted(self._results.values(), key=lambda r: r.kind == "full")
            self._results.clear()
            return results

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until no job waits or runs; True if that happened within ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._job is not None or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True

    def close(self) -> None:
        """Stop the thread and join it (idempotent)."""
        with self._cond:
            self._stop = True
            self._job = None
            self._cond.notify_all()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=10.0)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _loop(self) -> None:
        while True:
            with self._cond:
                while self._job is None and not self._stop:
                    self._cond.wait()
                if self._stop:
                    return
                job, self._job = self._job, None
                self._busy = True
            try:
                result: SortResult | None = run_job(job)  # type: ignore[arg-type]
            except Exception:  # a bad job must not kill the thread; the GUI keeps the old order
                result = None
            with self._cond:
                self._busy = False
                if result is not None:
                    self._results[result.kind] = result
                self._cond.notify_all()
