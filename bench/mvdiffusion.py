"""Benchmark of the multi-view diffusion on the CPU: time per denoising step and peak memory.

Cases (each runs in a fresh child process so its peak RSS is its own):

* ``tiny``: the conformance fixture pipeline (64x64 views) through ``MultiViewDiffusion``,
  ``--steps`` denoising steps; per-step time from the progress events.
* ``full``: ONE call of a full-size FaceLift UNet (870 M parameters, built on the meta device
  from the released config, then materialised with random weights) at 512x512
  (64x64 latents, batch 12 = 2 CFG halves x 6 views), fp32, sparse attention. Heavy
  (~4 GB RAM, about a minute on 2 cores): only with ``--full``.

Usage::

    python bench/mvdiffusion.py [--steps 10] [--full] [--threads N]
    python bench/mvdiffusion.py --compare PATH_TO_FACELIFT_CHECKOUT [--runs 3] [--latents 64]
                                [--batch 12] [--layers-per-block 2] [--profile] [--no-warmup]

``--compare`` times one call of our multi-view UNet and of FaceLift's own UNetMV2DConditionModel
(imported from the checkout; bench/reference_code.py) with the same config, random weights and
inputs, a fresh process per run, alternating (bench/compare.py). The defaults are the released
UNet at 512x512 (batch 12, 64x64 latents: ~40 min of two cores for three runs each); smaller
configs (``--latents 32 --batch 6 --layers-per-block 1``) show the same per-module overheads in
minutes. ``--profile`` adds the self CPU time per torch operator of one call of each.

Prints a table; nothing is asserted.
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CONFORMANCE = REPO / "engine" / "conformance" / "reference"


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def _rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def case_tiny(steps: int) -> dict[str, float | str]:
    import numpy as np
    from PIL import Image

    from engine.api import ProgressEvent
    from engine.mvdiffusion.pipeline import MultiViewDiffusion

    t0 = time.perf_counter()
    mvd = MultiViewDiffusion.from_weights(CONFORMANCE, device="cpu")
    load_s = time.perf_counter() - t0
    image = np.asarray(Image.open(CONFORMANCE / "mvdiffusion" / "pipeline_run" / "input.png").convert("RGB"))
    mvd.generate(image, num_steps=1)  # warm-up
    rss_before = _rss_mb()
    stamps: list[float] = []

    def on_progress(event: ProgressEvent) -> None:
        stamps.append(time.perf_counter())

    t0 = time.perf_counter()
    mvd.generate(image, num_steps=steps, on_progress=on_progress)
    total = time.perf_counter() - t0
    step_times = [b - a for a, b in itertools.pairwise(stamps)]
    return {
        "case": f"tiny fixture pipeline, {mvd.resolution}x{mvd.resolution}, {steps} steps",
        "load_s": load_s,
        "step_s": sorted(step_times)[len(step_times) // 2],
        "total_s": total,
        "rss_before_mb": rss_before,
        "peak_rss_mb": _peak_rss_mb(),
    }


def _full_unet_config(tmp: Path) -> Path:
    from engine.mvdiffusion.config import RELEASED_UNET_SIZES

    cfg = json.loads((CONFORMANCE / "mvdiffusion" / "pipeckpts" / "unet" / "config.json").read_text())
    cfg.update(RELEASED_UNET_SIZES)
    (tmp / "config.json").write_text(json.dumps(cfg))
    return tmp


def case_full() -> dict[str, float | str]:
    import tempfile

    import torch

    from engine.mvdiffusion.loading import build_unet, make_multiview

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        unet, settings = build_unet(_full_unet_config(Path(tmp)))
        unet = unet.to_empty(device="cpu")
        gen = torch.Generator().manual_seed(0)
        with torch.no_grad():
            for p in unet.parameters():
                p.normal_(0.0, 0.02, generator=gen)
        make_multiview(unet, settings)
        unet.eval().requires_grad_(False)
        build_s = time.perf_counter() - t0
    n_params = sum(p.numel() for p in unet.parameters())
    batch = 2 * settings.num_views
    sample = torch.randn(batch, 8, 64, 64, generator=gen)
    text = torch.randn(batch, 77, 1024, generator=gen)
    labels = torch.randn(batch, 2048, generator=gen)
    rss_before = _rss_mb()
    with torch.inference_mode():
        t0 = time.perf_counter()
        out = unet(
            sample, torch.tensor(981), encoder_hidden_states=text, class_labels=labels, return_dict=False
        )[0]
        step_s = time.perf_counter() - t0
    assert out.shape == (batch, 4, 64, 64)
    return {
        "case": f"full-size UNet ({n_params / 1e6:.0f} M params), 512x512, batch {batch}, 1 step",
        "load_s": build_s,
        "step_s": step_s,
        "total_s": step_s,
        "rss_before_mb": rss_before,
        "peak_rss_mb": _peak_rss_mb(),
    }


def _compare_config(layers_per_block: int) -> dict:
    from engine.mvdiffusion.config import RELEASED_UNET_SIZES

    cfg = json.loads((CONFORMANCE / "mvdiffusion" / "pipeckpts" / "unet" / "config.json").read_text())
    cfg.update(RELEASED_UNET_SIZES, layers_per_block=layers_per_block)
    return cfg


def compare_child(impl: str, args: argparse.Namespace) -> str:
    """One timed UNet call of ``impl`` ("ours" or "ref") in this process; a JSON line."""
    import tempfile

    import torch

    sys.path.insert(0, str(REPO / "bench"))
    from compare import child_result, time_call, weights_for

    from engine.mvdiffusion.loading import build_unet, make_multiview

    cfg = _compare_config(args.layers_per_block)
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "config.json").write_text(json.dumps(cfg))
        ours, settings = build_unet(Path(tmp))  # meta: no memory
    weights = weights_for([(k, tuple(v.shape)) for k, v in ours.state_dict().items()], seed=0)
    if impl == "ours":
        ours.load_state_dict(weights, strict=True, assign=True)
        make_multiview(ours, settings)
        unet = ours.eval().requires_grad_(False)
    else:
        from reference_code import reference_unet

        del ours
        unet = reference_unet(args.compare, cfg, weights)
    del weights
    gen = torch.Generator().manual_seed(1)
    n, lat = args.batch, args.latents
    sample = torch.randn(n, 8, lat, lat, generator=gen)
    text = torch.randn(n, 77, 1024, generator=gen)
    labels = torch.randn(n, 2048, generator=gen)

    def call() -> torch.Tensor:
        out = unet(
            sample, torch.tensor(981), encoder_hidden_states=text, class_labels=labels, return_dict=False
        )
        return out[0] if isinstance(out, tuple) else out

    seconds, cpu_seconds, out, ops = time_call(call, warmup=not args.no_warmup, profile=args.profile)
    return child_result(impl, seconds, cpu_seconds, out, ops)


def compare(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(REPO / "bench"))
    from compare import child_command, report, run_alternating

    def command(impl: str) -> list[str]:
        model = ["--latents", str(args.latents), "--batch", str(args.batch)]
        model += ["--layers-per-block", str(args.layers_per_block)]
        model += ["--threads", str(args.threads)] if args.threads else []
        return child_command(__file__, args, impl, model)

    results = run_alternating(command, args.runs)
    title = (
        f"multi-view UNet, one call: batch {args.batch}, {args.latents}x{args.latents} latents, "
        f"layers_per_block {args.layers_per_block}, fp32, sparse attention "
        f"({'warm' if not args.no_warmup else 'cold'} call), {args.runs} runs each"
    )
    print(report(title, results))
    return 0


def _child(case: str, steps: int, threads: int | None) -> dict[str, float | str]:
    cmd = [sys.executable, __file__, "--child", case, "--steps", str(steps)]
    if threads:
        cmd += ["--threads", str(threads)]
    out = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"case {case} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    from compare import add_compare_arguments
    from table import ruled

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=10, help="denoising steps of the tiny case")
    parser.add_argument("--full", action="store_true", help="also run one step of the full-size UNet")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--child", choices=("tiny", "full"), help=argparse.SUPPRESS)
    add_compare_arguments(parser, "UNet")
    parser.add_argument("--latents", type=int, default=64, help="latent size (--compare; 64 = 512x512)")
    parser.add_argument(
        "--batch", type=int, default=12, help="batch (--compare; 12 = 2 CFG halves x 6 views)"
    )
    parser.add_argument("--layers-per-block", type=int, default=2, help="UNet depth (--compare; released: 2)")
    args = parser.parse_args()
    if args.compare_child:
        sys.path.insert(0, str(REPO))
        import torch

        if args.threads:
            torch.set_num_threads(args.threads)
        print(compare_child(args.compare_child, args))
        return 0
    if args.compare:
        return compare(args)
    if args.child:
        sys.path.insert(0, str(REPO))
        import torch

        if args.threads:
            torch.set_num_threads(args.threads)
        result = case_tiny(args.steps) if args.child == "tiny" else case_full()
        result["threads"] = torch.get_num_threads()
        print(json.dumps(result))
        return 0

    rows = [_child("tiny", args.steps, args.threads)]
    if args.full:
        rows.append(_child("full", args.steps, args.threads))
    head = f"{'case':<72} {'thr':>3} {'load/build s':>12} {'s/step':>9} {'RSS before MB':>13} {'peak RSS MB':>11}"
    lines = (
        f"{r['case']:<72} {r['threads']:>3} {r['load_s']:>12.2f} {r['step_s']:>9.3f} "
        f"{r['rss_before_mb']:>13.0f} {r['peak_rss_mb']:>11.0f}"
        for r in rows
    )
    print(ruled(head, lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
