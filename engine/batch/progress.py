"""A batch's progress line, its closing summary table and its ``--report`` JSON.

:class:`BatchProgress` keeps every photo's :class:`~engine.batch.jobs.Outcome` as the runners
(serial or Ray) hand them in, draws one aggregated tqdm line on stderr (done / failed / photos
per second / ETA), prints a line per finished photo above it, and at the end a table per status
and per worker. ``write_report`` writes the per-photo record (status, seconds, worker,
attempts, error) atomically.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from engine.batch.jobs import Job, Outcome


class BatchProgress:
    """Progress of ``jobs`` (those to run) after ``skipped`` (settled already: complete under
    --resume, or refused). bar=False draws nothing (a report of settled photos only)."""

    def __init__(
        self,
        jobs: list[Job],
        skipped: Iterable[Outcome] = (),
        stream: TextIO | None = None,
        bar: bool = True,
    ):
        from tqdm import tqdm

        self.stream = stream if stream is not None else sys.stderr
        self.outcomes: dict[int, Outcome] = {o.job.index: o for o in skipped}
        self.pending = {j.index: j for j in jobs}
        self.loads: dict[str, int] = {}
        self.threads: dict[str, int] = {}
        self.started = time.perf_counter()
        self.bar = tqdm(
            total=len(jobs),
            unit="photo",
            file=self.stream,
            dynamic_ncols=True,
            bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}, {rate_fmt}]{postfix}",
            disable=not bar,
        )
        self._postfix()

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes.values() if o.status == "failed"]

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes.values())

    def _postfix(self, stage: str = "") -> None:
        text = f"done {self.count('done')}, failed {self.count('failed')}"
        self.bar.set_postfix_str(text + (f" | {stage}" if stage else ""), refresh=True)

    def stage(self, text: str) -> None:
        """Show what the (serial) worker is doing now after the counts."""
        self._postfix(text)

    def note(self, line: str) -> None:
        """Print a line above the bar."""
        self.bar.write(line, file=self.stream)

    def finish(self, outcome: Outcome) -> None:
        """Record a photo's outcome: its line above the bar, the counts on it."""
        self.outcomes[outcome.job.index] = outcome
        self.pending.pop(outcome.job.index, None)
        if outcome.worker:
            self.loads[outcome.worker] = max(self.loads.get(outcome.worker, 0), outcome.loads)
            self.threads[outcome.worker] = outcome.threads
        if outcome.status == "done":
            self.note(f"{outcome.job.photo}: done -> {outcome.job.out_dir}")
        else:
            self.note(f"facelift: error: {outcome.error}")
        self.bar.update(1)
        self._postfix()

    def close(self) -> None:
        self.bar.close()

    @property
    def wall_seconds(self) -> float:
        return time.perf_counter() - self.started

    def all_outcomes(self) -> list[Outcome]:
        """Every photo in batch order; those that never ran are "not run"."""
        rest = [Outcome(j, "not run") for j in self.pending.values()]
        return sorted([*self.outcomes.values(), *rest], key=lambda o: o.job.index)

    def summary(self) -> str:
        """The closing table: photos per status, then per worker (photos, failed, model
        loads, busy seconds, seconds per photo), then the wall time and photos per minute."""
        outcomes = self.all_outcomes()
        lines = ["status     photos"]
        for status in ("done", "skipped", "failed", "not run"):
            n = sum(o.status == status for o in outcomes)
            if n or status in ("done", "failed"):
                lines.append(f"{status:<10} {n:>6}")
        retried = sum(o.attempts > 1 for o in outcomes)
        if retried:
            lines.append(f"{'retried':<10} {retried:>6}")
        ran = [o for o in outcomes if o.worker and o.status in ("done", "failed")]
        if ran:
            width = max(len("worker"), *(len(o.worker) for o in ran))
            lines.append(f"{'worker':<{width}}  photos  failed  loads  busy s  s/photo")
            for worker in sorted({o.worker for o in ran}):
                mine = [o for o in ran if o.worker == worker]
                busy = sum(o.seconds for o in mine)
                lines.append(
                    f"{worker:<{width}}  {len(mine):>6}  {sum(o.status == 'failed' for o in mine):>6}"
                    f"  {self.loads.get(worker, 0):>5}  {busy:>6.1f}  {busy / len(mine):>7.1f}"
                )
        wall = self.wall_seconds
        done = sum(o.status == "done" for o in ran)
        lines.append(f"wall {wall:.1f} s, {60.0 * done / wall if wall > 0 else 0.0:.2f} photos/minute")
        return "\n".join(["facelift: summary", *(f"  {line}" for line in lines)])

    def report(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """The ``--report`` JSON object."""
        outcomes = self.all_outcomes()
        return {
            **(extra or {}),
            "wall_seconds": round(self.wall_seconds, 3),
            "counts": {
                s: sum(o.status == s for o in outcomes) for s in ("done", "skipped", "failed", "not run")
            },
            "workers": [
                {"worker": w, "model_loads": n, "cpu_threads": self.threads.get(w, 0)}
                for w, n in sorted(self.loads.items())
            ],
            "photos": [
                {
                    "input": str(o.job.photo),
                    "output": str(o.job.out_dir),
                    "status": o.status,
                    "seconds": round(o.seconds, 3),
                    "worker": o.worker or None,
                    "attempts": o.attempts,
                    "error": o.error or None,
                }
                for o in outcomes
            ],
        }


def write_report(path: Path, report: dict[str, Any]) -> None:
    """Write ``report`` as JSON at ``path``, atomically (engine.io.atomic)."""
    from engine.io.atomic import atomic_write

    with atomic_write(path) as tmp:
        tmp.write_text(json.dumps(report, indent=1) + "\n")
