"""Time and peak memory of one GS-LRM forward pass on the CPU.

Cases: the tiny conformance model (6 x 64^2), and the full-size released architecture
(d 1024, 24 layers; random weights) at 6 x 256^2 and 6 x 512^2; and "load": loading a
full-size release-layout checkpoint (written to a temp folder first, 1.2 GB) to show the
weights are held once. Each case runs in its own subprocess so its peak RSS (getrusage
ru_maxrss) is its own. Prints a table.

    python bench/gslrm.py                 # all cases (512^2 takes several minutes on 2 cores)
    python bench/gslrm.py --cases tiny full256 load
    python bench/gslrm.py --compare PATH_TO_FACELIFT_CHECKOUT [--runs 3] [--size 256] [--layers 24]
                          [--profile] [--no-warmup]

``--compare`` times our transformer trunk beside FaceLift's own ``TransformerBlock`` stack
(imported from the checkout; bench/reference_code.py): ``--layers`` blocks of d 1024 / d_head 64
on the 6 x (size/8)^2 + 2 tokens of 6 views at ``--size``^2, the same weights (by parameter name)
and input, a fresh process per run, alternating (bench/compare.py). The trunk is all but ~0.1 %
of GS-LRM's FLOPs; patchify, rays and the heads are not compared.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CONFORMANCE = REPO / "engine" / "conformance" / "reference"
CASES = {"tiny": 64, "full256": 256, "full512": 512, "load": 0}


def _rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _write_full_checkpoint(folder: Path) -> Path:
    """A full-size random checkpoint in the release layout (<folder>/gslrm/ckpt_*.pt)."""
    import torch

    from engine.gslrm.checkpoint import build_model
    from engine.gslrm.config import GSLRMConfig

    path = folder / "gslrm" / "ckpt_0000000000021125.pt"
    path.parent.mkdir(parents=True)
    model = build_model(GSLRMConfig(), "meta").to_empty(device="cpu")
    model.reset_parameters(torch.Generator().manual_seed(0))
    torch.save({"model": model.state_dict(), "fwdbwd_pass_step": 21125}, path)
    return path


def run_load(folder: Path) -> dict[str, object]:
    """Load the checkpoint written by the parent; no forward pass."""
    from engine.gslrm.reconstructor import GSLRMReconstructor

    base = _rss_mb()
    t0 = time.perf_counter()
    rec = GSLRMReconstructor.from_weights(folder, device="cpu")
    assert rec._model is not None
    total = sum(float(p.sum()) for p in rec._model.parameters())  # touch every weight page
    load_s = time.perf_counter() - t0
    assert total == total  # finite (not NaN)
    file_mb = next((folder / "gslrm").glob("ckpt_*.pt")).stat().st_size / 2**20
    return {
        "case": f"load ({file_mb:.0f} MB file)",
        "size": 0,
        "layers": rec.config.n_layer,
        "d": rec.config.d,
        "gaussians": 0,
        "load_s": load_s,
        "forward_s": float("nan"),
        "weights_mb": _rss_mb() - base,
        "rss_before_mb": base,
        "peak_mb": _peak_mb(),
        "threads": 0,
    }


def run_case(name: str, folder: Path | None = None) -> dict[str, object]:
    """One forward pass in this process; returns the measurements."""
    sys.path.insert(0, str(REPO))
    if name == "load" and folder is not None:
        return run_load(folder)
    import numpy as np
    import torch

    from engine.gslrm.checkpoint import build_model
    from engine.gslrm.config import GSLRMConfig
    from engine.gslrm.reconstructor import GSLRMReconstructor

    size = CASES[name]
    base = _rss_mb()
    t0 = time.perf_counter()
    if name == "tiny":
        rec = GSLRMReconstructor.from_weights(CONFORMANCE, device="cpu")
    else:
        model = build_model(GSLRMConfig(), "meta").to_empty(device="cpu")
        model.reset_parameters(torch.Generator().manual_seed(0))
        model.eval().requires_grad_(False)
        rec = GSLRMReconstructor(model, torch.device("cpu"), "fp32")
    load_s = time.perf_counter() - t0
    weights_mb = _rss_mb() - base
    views = np.random.default_rng(0).integers(0, 256, (6, size, size, 3), dtype=np.uint8)
    before = _rss_mb()
    t0 = time.perf_counter()
    gaussians = rec.reconstruct(views, apply_filter=False)
    forward_s = time.perf_counter() - t0
    return {
        "case": name,
        "size": size,
        "layers": rec.config.n_layer,
        "d": rec.config.d,
        "gaussians": len(gaussians),
        "load_s": load_s,
        "forward_s": forward_s,
        "weights_mb": weights_mb,
        "rss_before_mb": before,
        "peak_mb": _peak_mb(),
        "threads": torch.get_num_threads(),
    }


def compare_child(impl: str, args: argparse.Namespace) -> str:
    """One timed trunk forward of ``impl`` ("ours" or "ref") in this process; a JSON line."""
    import torch

    sys.path.insert(0, str(REPO / "bench"))
    from compare import child_result, time_call, weights_for

    from engine.gslrm.config import GSLRMConfig
    from engine.gslrm.model import TransformerBlock

    c = GSLRMConfig()
    with torch.device("meta"):
        blocks = torch.nn.ModuleList(TransformerBlock(c.d, c.d_head) for _ in range(args.layers))
    weights = weights_for([(k, tuple(v.shape)) for k, v in blocks.state_dict().items()], seed=0)
    if impl == "ref":
        from reference_code import reference_gslrm_transformer

        blocks = reference_gslrm_transformer(args.compare, c.d, c.d_head, args.layers)
    blocks.load_state_dict(weights, strict=True, assign=True)
    blocks = blocks.eval().requires_grad_(False)
    del weights
    tokens = 6 * (args.size // c.patch_size) ** 2 + c.n_gaussians
    x0 = torch.randn(1, tokens, c.d, generator=torch.Generator().manual_seed(1))

    def call() -> torch.Tensor:
        x = x0
        for block in blocks:
            x = block(x)
        return x

    seconds, cpu_seconds, out, ops = time_call(call, warmup=not args.no_warmup, profile=args.profile)
    return child_result(impl, seconds, cpu_seconds, out, ops)


def compare(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(REPO / "bench"))
    from compare import child_command, report, run_alternating

    def command(impl: str) -> list[str]:
        return child_command(__file__, args, impl, ["--size", str(args.size), "--layers", str(args.layers)])

    results = run_alternating(command, args.runs)
    tokens = 6 * (args.size // 8) ** 2 + 2
    title = (
        f"GS-LRM transformer trunk: 6 views at {args.size}^2 ({tokens:,} tokens), d 1024, "
        f"{args.layers} layers, fp32 ({'warm' if not args.no_warmup else 'cold'} call), {args.runs} runs each"
    )
    print(report(title, results))
    return 0


def main() -> int:
    from compare import add_compare_arguments
    from table import ruled

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES))
    parser.add_argument("--child", choices=list(CASES), help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    add_compare_arguments(parser, "trunk")
    parser.add_argument("--size", type=int, default=256, help="view size in px (--compare)")
    parser.add_argument("--layers", type=int, default=24, help="transformer blocks (--compare)")
    args = parser.parse_args()
    if args.compare_child:
        sys.path.insert(0, str(REPO))
        print(compare_child(args.compare_child, args))
        return 0
    if args.compare:
        return compare(args)
    if args.child:
        print(json.dumps(run_case(args.child, args.folder)))
        return 0
    rows = []
    for name in args.cases:
        with tempfile.TemporaryDirectory(prefix="gslrm-bench-") as tmp:
            cmd = [sys.executable, __file__, "--child", name]
            if name == "load":
                sys.path.insert(0, str(REPO))
                _write_full_checkpoint(Path(tmp))
                cmd += ["--folder", tmp]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            print(f"{name}: failed\n{proc.stderr}", file=sys.stderr)
            return 1
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(f"... {name} done", file=sys.stderr, flush=True)
    header = (
        f"{'case':<20} {'views':>9} {'d/layers':>9} {'Gaussians':>10} {'load s':>7} {'forward s':>10} "
        f"{'weights MB':>11} {'peak RSS MB':>12} {'peak-before MB':>15} {'threads':>7}"
    )
    print(
        ruled(
            header,
            (
                f"{r['case']:<20} {('6x' + str(r['size']) + '^2') if r['size'] else '-':>9} {str(r['d']) + '/' + str(r['layers']):>9} "
                f"{r['gaussians']:>10,} {r['load_s']:>7.1f} {r['forward_s']:>10.2f} {r['weights_mb']:>11.0f} "
                f"{r['peak_mb']:>12.0f} {r['peak_mb'] - r['rss_before_mb']:>15.0f} {r['threads']:>7}"
                for r in rows
            ),
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
