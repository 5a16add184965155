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
    lod_budget: how many splats the moving-camera subset should hold (approximately).
    """

    arrays: SplatArrays
    generation: int
    depth_row: np.ndarray
    visible: np.ndarray
    lod_budget: int


@dataclass
class SortResult:
    """A finished sort: attribute arrays in back-to-front order, full set and LOD subset."""

    generation: int
    depth_row: np.ndarray
    full: dict[str, np.ndarray]
    lod: dict[str, np.ndarray]
    lod_fraction: float
    seconds: float
    count: int = field(default=0)


def back_to_front(pos: np.ndarray, visible: np.ndarray, depth_row: np.ndarray) -> np.ndarray:
    """``visible`` (K,) reordered farthest-first along the view depth (clip w)."""
    row = np.asarray(depth_row, dtype=np.float32)
    depth = pos[visible] @ row[:3] + row[3]
    return visible[np.argsort(-depth)]


def lod_subset(order: np.ndarray, rank: np.ndarray, budget: int) -> tuple[np.ndarray, float]:
    """The part of ``order`` (kept in order) whose random rank falls in the first fraction.

    Returns (indices, fraction) with about ``budget`` elements (all when budget >= len).
    """
    k = len(order)
    if budget >= k or k == 0:
        return order, 1.0
    fraction = budget / k
    threshold = fraction * len(rank)
    return order[rank[order] < threshold], fraction


def run_job(job: SortJob) -> SortResult:
    """Sort and gather synchronously (what the thread does; also used by ``settle``)."""
    t0 = time.perf_counter()
    order = back_to_front(job.arrays.pos, job.visible, job.depth_row)
    lod, fraction = lod_subset(order, job.arrays.lod_rank, job.lod_budget)
    full = job.arrays.gather(order)
    lod_attrs = full if lod is order else job.arrays.gather(lod)
    return SortResult(
        generation=job.generation,
        depth_row=np.asarray(job.depth_row, dtype=np.float64),
        full=full,
        lod=lod_attrs,
        lod_fraction=fraction,
        seconds=time.perf_counter() - t0,
        count=len(order),
    )


class DepthSorter:
    """A single long-lived sorting thread with a one-slot mailbox in each direction."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._job: SortJob | None = None
        self._result: SortResult | None = None
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
            return self._job is not None or self._busy or self._result is not None

    def take_result(self) -> SortResult | None:
        """The newest finished result (once), or None."""
        with self._cond:
            result, self._result = self._result, None
            return result

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
                    self._result = result
                self._cond.notify_all()
