"""``facelift reconstruct``'s batch options: --resume, --formats, --report and the --ray ones.

``add_batch_arguments`` adds them; ``formats_of`` / ``ray_plan`` read them back (InputError,
one line, for values that cannot work).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.batch.ray_pool import MAX_ATTEMPTS, RayPlan
from engine.errors import InputError
from engine.io.formats import FORMAT_NAMES

RAY_OPTIONS = ("ray_workers", "ray_cpus_per_worker", "ray_gpus_per_worker")


def add_batch_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--resume",
        action="store_true",
        help="skip photos whose outputs are complete (made by this command with these settings); "
        "redo the others, replacing what an interrupted run left",
    )
    parser.add_argument(
        "--formats",
        default="",
        metavar="LIST",
        help=f"also write each head as these formats, comma-separated ({', '.join(FORMAT_NAMES)}): "
        "gaussians.<suffix>, meshes head.glb / head.obj; ply is gaussians.ply, always written",
    )
    parser.add_argument(
        "--report",
        type=Path,
        default=None,
        metavar="FILE.json",
        help="write per-photo status, time and worker",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        metavar="N",
        help="CPU threads per photo (default: one per core; with --ray, the CPUs each worker reserves). "
        "On the CPU the FaceLift engine's numbers depend on it: runs that must match byte for byte "
        "use the same --threads",
    )
    ray = parser.add_argument_group("Ray cluster (pip install 'facelift-desktop[cluster]')")
    ray.add_argument(
        "--ray",
        nargs="?",
        const="auto",
        default=None,
        metavar="ADDRESS",
        help="run the photos on Ray actors, each loading the models once. auto (the default value): "
        "the cluster started on this machine (`ray start`) or RAY_ADDRESS, else a new local one; "
        f"or a cluster's address, e.g. HEAD:6379. A worker that dies costs its photo a retry (at most "
        f"{MAX_ATTEMPTS} tries)",
    )
    ray.add_argument(
        "--ray-workers", type=int, default=None, metavar="N", help="actors (default: as many as fit)"
    )
    ray.add_argument(
        "--ray-cpus-per-worker",
        type=float,
        default=None,
        metavar="N",
        help="CPUs each actor reserves (default 1)",
    )
    ray.add_argument(
        "--ray-gpus-per-worker",
        type=float,
        default=None,
        metavar="N",
        help="GPUs each actor reserves (default: 1 for the FaceLift engine on a cluster with GPUs, else 0)",
    )


def formats_of(text: str) -> tuple[str, ...]:
    """``--formats`` text -> format names (checked, in order, each once)."""
    from engine.io.formats import format_named

    names: list[str] = []
    for part in text.split(","):
        if part.strip():
            name = format_named(part.strip()).name
            if name not in names:
                names.append(name)
    return tuple(names)


def ray_plan(args: argparse.Namespace) -> RayPlan | None:
    """The RayPlan of ``--ray ...``, or None without --ray (then the --ray-* options are refused)."""
    given = [f"--{name.replace('_', '-')}" for name in RAY_OPTIONS if getattr(args, name) is not None]
    if args.ray is None:
        if given:
            raise InputError(f"{given[0]} only applies with --ray")
        return None
    if args.ray_workers is not None and args.ray_workers < 1:
        raise InputError(f"--ray-workers must be 1 or more, got {args.ray_workers}")
    cpus = 1.0 if args.ray_cpus_per_worker is None else args.ray_cpus_per_worker
    if cpus <= 0:
        raise InputError(f"--ray-cpus-per-worker must be more than 0, got {cpus:g}")
    if args.ray_gpus_per_worker is not None and args.ray_gpus_per_worker < 0:
        raise InputError(f"--ray-gpus-per-worker must be 0 or more, got {args.ray_gpus_per_worker:g}")
    return RayPlan(args.ray, args.ray_workers, cpus, args.ray_gpus_per_worker, args.threads)


def threads_of(args: argparse.Namespace) -> int | None:
    """``--threads``: None (torch's default) or a count of 1 or more."""
    if args.threads is not None and args.threads < 1:
        raise InputError(f"--threads must be 1 or more, got {args.threads}")
    return args.threads  # type: ignore[no-any-return]
