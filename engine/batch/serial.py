"""A batch in this process: one PhotoWorker, photo after photo (``facelift reconstruct`` without --ray)."""

from __future__ import annotations

from engine.api import ProgressEvent
from engine.batch.jobs import Job, PhotoWorker
from engine.batch.progress import BatchProgress


def run_serial(worker: PhotoWorker, jobs: list[Job], progress: BatchProgress) -> None:
    """Run ``jobs`` one after another in this process; each Outcome goes to ``progress``.
    The models load first, so bad weights stop the batch before any photo (WeightsError).
    torch's thread count is restored afterwards (the worker may have set it)."""
    import torch

    def on_progress(ev: ProgressEvent) -> None:
        progress.stage(f"{ev.stage}{f' {ev.step}/{ev.total}' if ev.total else ''}")

    before = torch.get_num_threads()
    try:
        worker.engine(on_progress)
        for job in jobs:
            progress.bar.set_description(job.photo.name[:30])
            progress.finish(worker.run(job, on_progress))
    finally:
        torch.set_num_threads(before)
