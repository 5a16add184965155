"""``facelift reconstruct --ray``: the photos of a batch on a pool of Ray actors.

Each actor is a :class:`~engine.batch.jobs.PhotoWorker`: it builds and loads its engine once,
then reconstructs photo after photo, writing straight into the output folder (shared storage on
a cluster) the same atomic way as a serial run. The driver keeps one photo in flight per actor
and hands the next one to whichever actor finishes first.

Faults: a photo that fails is an Outcome like any other. An actor that dies (killed, its node
lost, out of memory) takes its photo's staging folder with it; the driver removes that folder,
starts a replacement actor and queues the photo again, at most :data:`MAX_ATTEMPTS` times in
all. Ray is imported only here, and only when ``--ray`` is used (``pip install .[cluster]``).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from engine.batch.complete import is_complete
from engine.batch.jobs import Job, Outcome, PhotoSettings, PhotoWorker
from engine.errors import Cancelled, FaceLiftError, WeightsError
from engine.outputs import remove_staging
from engine.settings import EngineConfig

MAX_ATTEMPTS = 3
"""A photo whose worker dies is tried at most this many times in all."""
KILL_WAIT_SECONDS = 30.0
"""How long an interrupted batch waits for its killed actors to stop writing."""
ACTOR_PREFIX = "facelift-worker"
"""Actors are named ``facelift-worker-<run>-<n>`` (``ray list actors`` shows them)."""
INSTALL_HINT = "pip install 'facelift-desktop[cluster]'"


class RayBatchError(FaceLiftError):
    """The Ray cluster cannot run the batch (no Ray, no connection, no resources, workers
    that die while loading)."""


@dataclass(frozen=True)
class RayPlan:
    """How to use the cluster. address: "auto" (join the cluster on this machine or
    RAY_ADDRESS, else start one) or a Ray address. workers: actors (None: as many as the
    cluster's resources allow). cpus / gpus: resources each actor reserves (gpus None: one
    per actor for the FaceLift engine when the cluster has GPUs, else none). threads: torch's
    CPU threads in each actor (None: the CPUs it reserves, at least one)."""

    address: str = "auto"
    workers: int | None = None
    cpus: float = 1.0
    gpus: float | None = None
    threads: int | None = None


def import_ray() -> Any:
    """The ray module, or RayBatchError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise RayBatchError(f"--ray needs Ray, which is not installed here: {INSTALL_HINT}") from None
    return ray


def connect(address: str) -> Callable[[], None]:
    """Connect this process to Ray; returns what disconnects it (nothing when Ray was already
    initialised by the caller, e.g. a test or a notebook)."""
    ray = import_ray()
    if ray.is_initialized():
        return lambda: None
    options: dict[str, Any] = {"log_to_driver": False, "logging_level": "ERROR"}
    # A Ray that this command may start itself sends no usage statistics unless the user asks.
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    try:
        if address == "auto":
            ray.init(**options)
        else:
            ray.init(address=address, **options)
    except (ConnectionError, ValueError, RuntimeError) as exc:
        detail = " ".join(str(exc).split())
        raise RayBatchError(f"--ray {address}: cannot connect to a Ray cluster ({detail})") from exc
    return ray.shutdown  # type: ignore[no-any-return]


def pool_size(resources: Mapping[str, float], plan: RayPlan, gpus: float, n_jobs: int) -> int:
    """How many actors to start: plan.workers, else what the cluster's CPUs (or GPUs) hold;
    never more than there are photos."""
    if plan.workers is not None:
        wanted = plan.workers
    elif gpus > 0:
        wanted = int(resources.get("GPU", 0.0) // gpus)
    else:
        wanted = int(resources.get("CPU", 0.0) // plan.cpus)
    return max(1, min(wanted, n_jobs))


def gpus_per_worker(resources: Mapping[str, float], plan: RayPlan, engine: str) -> float:
    """The GPUs each actor reserves; RayBatchError when the cluster has fewer than one needs."""
    have = resources.get("GPU", 0.0)
    gpus = plan.gpus if plan.gpus is not None else (1.0 if engine == "facelift" and have > 0 else 0.0)
    if gpus > have:
        raise RayBatchError(f"--ray-gpus-per-worker {gpus:g}: the Ray cluster has {have:g} GPUs")
    if plan.cpus > resources.get("CPU", 0.0):
        raise RayBatchError(
            f"--ray-cpus-per-worker {plan.cpus:g}: the Ray cluster has {resources.get('CPU', 0.0):g} CPUs"
        )
    return gpus


class RayPhotoWorker:
    """The actor: a PhotoWorker whose methods never raise on purpose (a Ray error wrapper
    cannot rebuild the engine's errors), so the driver sees ("ok", value) or ("fatal", line)."""

    def __init__(
        self, config: EngineConfig, settings: PhotoSettings, label: str, debug: bool, threads: int
    ) -> None:
        self.worker = PhotoWorker(config, settings, label, debug, threads)

    def start(self) -> tuple[str, Any]:
        """Load the models: ("ok", (worker name, model loads)) or ("fatal", message)."""
        try:
            self.worker.engine()
        except FaceLiftError as exc:
            from engine.commands import error_text

            return "fatal", error_text(exc)
        return "ok", (self.worker.name, self.worker.loads)

    def run(self, job: Job) -> tuple[str, Any]:
        """One photo: ("ok", Outcome) or ("fatal", message) when the weights fail."""
        try:
            return "ok", self.worker.run(job)
        except (WeightsError, Cancelled) as exc:
            return "fatal", str(exc)


class ActorPool:
    """Starts, feeds and replaces the actors of one batch (driver side)."""

    def __init__(self, ray: Any, config: EngineConfig, settings: PhotoSettings, plan: RayPlan, debug: bool):
        self.ray = ray
        self.settings = settings
        self.plan = plan
        resources = ray.cluster_resources()
        self.gpus = gpus_per_worker(resources, plan, config.engine or "")
        self.resources = resources
        self.cls = ray.remote(num_cpus=plan.cpus, num_gpus=self.gpus, max_restarts=0)(RayPhotoWorker)
        self.config = config
        self.debug = debug
        self.run_id = secrets.token_hex(3)
        self.started = 0
        self.actors: list[Any] = []

    def new_actor(self) -> tuple[Any, Any]:
        """A fresh actor and the reference of its start() (models loading)."""
        self.started += 1
        label = f"worker-{self.started}"
        name = f"{ACTOR_PREFIX}-{self.run_id}-{self.started}"
        actor = self.cls.options(name=name).remote(
            self.config, self.settings, label, self.debug, self.plan.threads or max(1, int(self.plan.cpus))
        )
        self.actors.append(actor)
        return actor, actor.start.remote()

    def kill_all(self) -> None:
        for actor in self.actors:
            with contextlib.suppress(Exception):  # already gone
                self.ray.kill(actor)


def run_on_ray(
    config: EngineConfig,
    settings: PhotoSettings,
    jobs: list[Job],
    finish: Callable[[Outcome], None],
    plan: RayPlan,
    debug: bool = False,
    note: Callable[[str], None] = print,
) -> None:
    """Reconstruct ``jobs`` on Ray; ``finish`` receives each photo's Outcome as it arrives.

    Raises RayBatchError (no Ray, no cluster, not enough resources, actors that keep dying while
    loading) or WeightsError (the weights fail to load on a worker). On any exit the actors are
    killed and the staging folders of photos still in flight removed.
    """
    ray = import_ray()
    from ray.exceptions import RayActorError

    disconnect = connect(plan.address)
    pool: ActorPool | None = None
    running: dict[Any, tuple[Any, Job]] = {}
    try:
        pool = ActorPool(ray, config, settings, plan, debug)
        size = pool_size(pool.resources, plan, pool.gpus, len(jobs))
        note(
            f"facelift: {size} Ray worker{'s' if size > 1 else ''} "
            f"({plan.cpus:g} CPU{f', {pool.gpus:g} GPU' if pool.gpus else ''} each)"
        )
        queue = deque(jobs)
        attempts = {j.index: 0 for j in jobs}
        starting: dict[Any, Any] = {}
        deaths_while_loading = 0
        for _ in range(size):
            actor, ref = pool.new_actor()
            starting[ref] = actor

        def assign(actor: Any) -> None:
            if queue:
                job = queue.popleft()
                attempts[job.index] += 1
                running[actor.run.remote(job)] = (actor, job)

        while running or (queue and starting):
            ready, _ = ray.wait([*starting, *running], num_returns=1)
            ref = ready[0]
            if ref in starting:
                actor = starting.pop(ref)
                try:
                    kind, value = ray.get(ref)
                except RayActorError as exc:
                    deaths_while_loading += 1
                    if deaths_while_loading > MAX_ATTEMPTS * size:
                        raise RayBatchError(
                            f"Ray workers keep dying while loading the models ({exc})"
                        ) from exc
                    new, new_ref = pool.new_actor()
                    starting[new_ref] = new
                    continue
                if kind == "fatal":
                    raise WeightsError(value)
                assign(actor)
                continue
            actor, job = running.pop(ref)
            try:
                kind, value = ray.get(ref)
            except RayActorError as exc:
                remove_staging(job.out_dir)
                _after_death(job, attempts[job.index], exc, queue, finish, settings)
                if queue:
                    new, new_ref = pool.new_actor()
                    starting[new_ref] = new
                continue
            if kind == "fatal":
                raise WeightsError(value)
            value.attempts = attempts[job.index]
            finish(value)
            assign(actor)
    finally:
        if pool is not None:
            pool.kill_all()
        if running:  # their actors are dying: wait until they are gone before cleaning up after them
            ray.wait(list(running), num_returns=len(running), timeout=KILL_WAIT_SECONDS)
        for _, job in running.values():
            remove_staging(job.out_dir)
        disconnect()


def _after_death(
    job: Job,
    attempt: int,
    exc: Exception,
    queue: deque[Job],
    finish: Callable[[Outcome], None],
    settings: PhotoSettings,
) -> None:
    """A photo whose actor died: done after all when its outputs landed before the death,
    queued again while attempts remain, else failed in one line."""
    if is_complete(job.out_dir, settings.signature(), job.photo):
        finish(Outcome(job, "done", 0.0, "", attempt))
    elif attempt < MAX_ATTEMPTS:
        queue.appendleft(job)
    else:
        reason = " ".join(str(exc).split())[:200]
        finish(
            Outcome(
                job,
                "failed",
                0.0,
                "",
                attempt,
                f"{job.photo}: its Ray worker died {attempt} times while reconstructing it ({reason})",
            )
        )


__all__ = ["MAX_ATTEMPTS", "RayBatchError", "RayPlan", "connect", "import_ray", "run_on_ray"]
