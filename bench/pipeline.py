"""One FaceLift reconstruction, stage by stage: time, peak memory and achieved TFLOP/s.

    python bench/pipeline.py --device cpu|cuda [--steps 50] [--size 512] [--lrm-size 512]
                             [--frames 150] [--render-size 512] [--tiny] [--json]

Stages: preprocess (the real photo pipeline on the sample portrait), CLIP, VAE encode, each UNet
step (batch 2 x 6 views), VAE decode (six views), GS-LRM, filter, PLY write, turntable. The
networks are the released architectures at full size with random weights (bench/fullsize.py):
the work does not depend on the values, so the timings are those of the real weights. ``--tiny``
runs the conformance fixtures' tiny networks through the real loading code instead (seconds).

FLOPs per stage are counted by torch's FlopCounterMode on meta-device twins of the same networks
at the same sizes (matmuls, convolutions and attention; 1 multiply-add = 2 FLOPs), so TFLOP/s =
FLOPs / time. docs/PERFORMANCE.md lists the counts at full size (a head: ~647 TFLOP, the UNet
86 %). Peak memory is the process's peak RSS sampled during the stage on the CPU, and
``torch.cuda.max_memory_allocated`` on CUDA. dtype: fp32 on the CPU; fp16 on CUDA (GS-LRM under
fp16 autocast), as the app runs; ``--dtype`` chooses another (the tests run the fp16 path on the
CPU with ``--tiny``).

A full-size CPU run takes about an hour of two cores: ``--steps 2 --size 256 --lrm-size 256
--frames 4`` makes it a few minutes (the table says which sizes ran). Paste the table in an issue.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def _fullsize() -> Any:
    """bench/fullsize.py, loaded by path (bench/ on sys.path would shadow the ``viewer`` package
    with bench/viewer.py in a process that imports this module, e.g. the tests)."""
    import importlib.util

    name = "facelift_bench_fullsize"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("fullsize.py"))
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


# --------------------------------------------------------------------------------------
# Measuring one stage
# --------------------------------------------------------------------------------------


def synchronize(device: str) -> None:
    """Wait for the device's queued work (CUDA runs asynchronously; the CPU does not)."""
    import torch

    if device == "cuda":
        torch.cuda.synchronize()


class MemoryMeter:
    """Peak memory of one stage: sampled RSS on the CPU, torch's allocator peak on CUDA."""

    def __init__(self, device: str, interval_s: float = 0.005) -> None:
        self.device = device
        self.interval_s = interval_s
        self.peak = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _sample(self) -> None:
        import psutil

        proc = psutil.Process()
        while not self._stop.is_set():
            self.peak = max(self.peak, proc.memory_info().rss)
            self._stop.wait(self.interval_s)

    def __enter__(self) -> MemoryMeter:
        import torch

        synchronize(self.device)
        if self.device == "cuda":
            torch.cuda.reset_peak_memory_stats()
        else:
            self._stop.clear()
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        import torch

        synchronize(self.device)
        if self.device == "cuda":
            self.peak = int(torch.cuda.max_memory_allocated())
        elif self._thread is not None:
            self._stop.set()
            self._thread.join()


@dataclass
class Row:
    stage: str
    seconds: float
    peak_bytes: int
    flops: float | None = None
    note: str = ""

    @property
    def tflops(self) -> float | None:
        return None if not self.flops or self.seconds <= 0 else self.flops / self.seconds / 1e12


@dataclass
class Bench:
    device: str
    rows: list[Row] = field(default_factory=list)
    step_seconds: list[float] = field(default_factory=list)

    @contextmanager
    def stage(self, name: str, flops: float | None = None, note: str = "") -> Iterator[None]:
        meter = MemoryMeter(self.device)
        with meter:
            t0 = time.perf_counter()
            yield
        self.rows.append(Row(name, time.perf_counter() - t0, meter.peak, flops, note))
        print(f"... {name}: {self.rows[-1].seconds:.2f} s", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------
# The networks: random full size, or the tiny fixtures through the real loaders
# --------------------------------------------------------------------------------------


@dataclass
class Nets:
    """The networks of one run and their meta-device twins (for FLOP counts)."""

    unet: Any
    vae: Any
    clip: Any
    gslrm: Any
    twins: dict[str, Any]
    feature_extractor: Any
    scheduler: Any
    views: int
    resolution: int
    text_width: int
    class_width: int


def _processor_and_scheduler() -> tuple[Any, Any]:
    from engine.conformance import reference_dir
    from engine.mvdiffusion.loading import load_feature_extractor, load_scheduler

    pipe = reference_dir() / "mvdiffusion" / "pipeckpts"  # the released configs' values
    return load_feature_extractor(pipe / "feature_extractor"), load_scheduler(pipe / "scheduler", "ddim")


def full_nets(device: str, dtype: Any, size: int) -> Nets:
    fs = _fullsize()
    fe, sched = _processor_and_scheduler()
    twins = {"unet": fs.full_unet("meta"), "vae": fs.full_vae("meta"), "clip": fs.full_clip("meta")}
    twins["gslrm"] = fs.full_gslrm("meta")
    return Nets(
        unet=fs.full_unet(device, dtype),
        vae=fs.full_vae(device, dtype),
        clip=fs.full_clip(device, dtype),
        gslrm=fs.full_gslrm(device),
        twins=twins,
        feature_extractor=fe,
        scheduler=sched,
        views=6,
        resolution=size,
        text_width=1024,
        class_width=2048,
    )


def tiny_nets(device: str, dtype: Any) -> Nets:
    import torch
    from diffusers import AutoencoderKL
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    from engine.conformance import reference_dir
    from engine.gslrm.checkpoint import build_model, find_checkpoint, load_model
    from engine.gslrm.config import load_config
    from engine.mvdiffusion.config import read_json
    from engine.mvdiffusion.loading import build_unet, load_components

    folder = reference_dir()
    comps = load_components(folder, dtype=dtype)
    for m in (comps.unet, comps.vae, comps.image_encoder):
        torch.nn.Module.to(m, device=device)
    pipe = folder / "mvdiffusion" / "pipeckpts"
    with torch.device("meta"):
        twins = {
            "vae": AutoencoderKL.from_config(read_json(pipe / "vae" / "config.json")),
            "clip": CLIPVisionModelWithProjection(
                CLIPVisionConfig.from_dict(read_json(pipe / "image_encoder" / "config.json"))
            ),
        }
    twins["unet"] = build_unet(pipe / "unet")[0]
    twins["gslrm"] = build_model(load_config(find_checkpoint(folder)[1]))
    return Nets(
        unet=comps.unet,
        vae=comps.vae,
        clip=comps.image_encoder,
        gslrm=load_model(folder)[0].to(device),
        twins=twins,
        feature_extractor=comps.feature_extractor,
        scheduler=comps.scheduler,
        views=comps.settings.num_views,
        resolution=comps.resolution,
        text_width=int(comps.unet.config.cross_attention_dim),
        class_width=int(comps.unet.config.projection_class_embeddings_input_dim),
    )


# --------------------------------------------------------------------------------------
# One reconstruction
# --------------------------------------------------------------------------------------


def resolve_dtype(name: str, device: str) -> str:
    """ "auto" is what the app runs: fp16 on CUDA (GS-LRM under fp16 autocast), fp32 on the CPU."""
    if name == "auto":
        return "fp16" if device == "cuda" else "fp32"
    return name


def _dtypes() -> dict[str, Any]:
    import torch

    return {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


def run(args: argparse.Namespace) -> tuple[Bench, dict[str, Any]]:
    import numpy as np
    import torch

    from engine.cameras import facelift_cameras
    from engine.gslrm.reconstructor import GSLRMReconstructor
    from engine.io.export import write_turntable
    from engine.io.images import resize_square
    from engine.io.ply import save_ply
    from engine.mvdiffusion.sampler import clip_crop, clip_pixels, ddim_step, image_to_tensor
    from engine.preprocess import preprocess_photo

    count_flops = _fullsize().count_flops

    dev = args.device
    dtype = _dtypes()[resolve_dtype(args.dtype, dev)]
    t0 = time.perf_counter()
    nets = tiny_nets(dev, dtype) if args.tiny else full_nets(dev, dtype, args.size)
    build_s = time.perf_counter() - t0
    tw = nets.twins
    res, v = nets.resolution, nets.views
    lat = res // 8 if not args.tiny else int(nets.unet.config.sample_size)
    lrm_size = args.lrm_size if not args.tiny else int(nets.gslrm.config.image_size)
    bench = Bench(dev)
    meta = torch.device("meta")
    info: dict[str, Any] = {"build_s": build_s}

    with bench.stage("preprocess"):
        prepared = preprocess_photo(REPO / "resources" / "samples" / "astronaut.png")
    image = resize_square(prepared.image, res)

    crop = clip_crop(nets.feature_extractor, image)
    pixels = clip_pixels(nets.feature_extractor, crop)
    f_clip = count_flops(lambda: tw["clip"](torch.empty(pixels.shape, device=meta)).image_embeds)
    with bench.stage("CLIP image encoder", f_clip), torch.inference_mode():
        info["clip_embeds"] = tuple(nets.clip(pixels.to(dev, dtype)).image_embeds.shape)

    x = (image_to_tensor(image) * 2 - 1).to(dev, dtype)
    f_enc = count_flops(lambda: tw["vae"].encode(torch.empty(x.shape, device=meta)).latent_dist.mode())
    with bench.stage("VAE encode", f_enc), torch.inference_mode():
        cond = nets.vae.encode(x).latent_dist.mode() * nets.vae.config.scaling_factor

    gen = torch.Generator(device=dev).manual_seed(4)
    batch = 2 * v
    text = torch.randn(batch, 77, nets.text_width, generator=gen, device=dev, dtype=dtype)
    labels = torch.cat(
        [
            torch.zeros(v, nets.class_width, device=dev, dtype=dtype),
            torch.randn(v, nets.class_width, generator=gen, device=dev, dtype=dtype),
        ]
    )
    cond = torch.cat([torch.zeros_like(cond.repeat(v, 1, 1, 1)), cond.repeat(v, 1, 1, 1)])
    latents = torch.randn(v, 4, lat, lat, generator=gen, device=dev, dtype=dtype)
    sched = nets.scheduler
    sched.set_timesteps(args.steps, device=dev)
    x_meta = torch.empty(batch, 8, lat, lat, device=meta)
    f_step = count_flops(
        lambda: tw["unet"](
            x_meta,
            torch.tensor(981, device=meta),
            encoder_hidden_states=torch.empty(text.shape, device=meta),
            class_labels=torch.empty(labels.shape, device=meta),
            return_dict=False,
        )
    )
    t_unet = time.perf_counter()
    with (
        bench.stage(f"UNet, {args.steps} steps", f_step * args.steps, note="per step below"),
        torch.inference_mode(),
    ):
        for t in sched.timesteps:
            s0 = time.perf_counter()
            out = nets.unet(
                torch.cat([torch.cat([latents, latents]), cond], 1),
                t,
                encoder_hidden_states=text,
                class_labels=labels,
                return_dict=False,
            )[0]
            u, c = out.chunk(2)
            out = u + 3.0 * (c - u)

            def noise(shape: tuple[int, ...] = tuple(latents.shape)) -> torch.Tensor:
                return torch.randn(shape, generator=gen, device=dev, dtype=dtype)

            latents = ddim_step(sched, args.steps, out, int(t), latents, 1.0, noise)
            synchronize(dev)
            bench.step_seconds.append(time.perf_counter() - s0)
    info["unet_s"] = time.perf_counter() - t_unet

    if dev == "cpu":
        nets.vae.enable_slicing()  # as the app's cpu preset: one view at a time
    f_dec = count_flops(lambda: tw["vae"].decode(torch.empty(latents.shape, device=meta)).sample)
    with bench.stage("VAE decode", f_dec), torch.inference_mode():
        decoded = nets.vae.decode(latents / nets.vae.config.scaling_factor).sample
        views = (
            ((decoded / 2 + 0.5).clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
        )
    del nets.unet, nets.clip
    nets.unet = nets.clip = None

    lrm_views = np.stack([resize_square(img, lrm_size) for img in views])
    cams = facelift_cameras(lrm_size)
    f_lrm = count_flops(
        lambda: tw["gslrm"](
            torch.empty(1, v, 3, lrm_size, lrm_size, device=meta),
            torch.from_numpy(cams.c2w).to(meta)[None],
            torch.from_numpy(cams.fxfycxcy).to(meta)[None],
        )
    )
    rec = GSLRMReconstructor(nets.gslrm, torch.device(dev), resolve_dtype(args.dtype, dev))
    with bench.stage("GS-LRM", f_lrm):
        raw = rec.reconstruct(lrm_views, apply_filter=False)
    with bench.stage("filter"):
        gaussians = raw.filter()
    info["gaussians"] = (len(raw), len(gaussians))
    with tempfile.TemporaryDirectory(prefix="facelift-bench-") as tmp:
        with bench.stage("PLY write", note=f"{len(gaussians):,} Gaussians"):
            save_ply(gaussians, Path(tmp) / "gaussians.ply")
        with bench.stage("turntable", note=f"{args.frames} frames at {args.render_size}^2"):
            write_turntable(
                gaussians, Path(tmp) / "turntable.mp4", num_frames=args.frames, size=args.render_size
            )
    info["sizes"] = {"views": res, "latents": lat, "lrm": lrm_size, "steps": args.steps}
    return bench, info


# --------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------


def table(bench: Bench, info: dict[str, Any], args: argparse.Namespace) -> str:
    import torch

    sizes = info["sizes"]
    what = "tiny conformance networks" if args.tiny else "released architectures, random weights"
    lines = [
        f"FaceLift pipeline on {args.device} ({resolve_dtype(args.dtype, args.device)}), {what}",
        f"views {sizes['views']}^2 (latents {sizes['latents']}^2), {sizes['steps']} denoising steps, "
        f"GS-LRM at 6 x {sizes['lrm']}^2, turntable {args.frames} frames at {args.render_size}^2; "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, load average "
        f"{os.getloadavg()[0]:.1f} at the end (other processes running: times are measured under load)",
        f"networks built in {info['build_s']:.1f} s; Gaussians {info['gaussians'][0]:,} -> {info['gaussians'][1]:,} after the filters",
        "",
        f"{'stage':<22} {'time s':>9} {'peak ' + ('alloc' if args.device == 'cuda' else 'RSS') + ' MB':>14} "
        f"{'GFLOP':>12} {'TFLOP/s':>8}  note",
    ]
    lines.append("-" * len(lines[-1]))
    total_s = total_f = 0.0
    for r in bench.rows:
        gflop = (f"{r.flops / 1e9:,.0f}" if r.flops >= 1e10 else f"{r.flops / 1e9:.3f}") if r.flops else "-"
        rate = f"{r.tflops:.3g}" if r.tflops is not None else "-"
        lines.append(
            f"{r.stage:<22} {r.seconds:>9.2f} {r.peak_bytes / 2**20:>14,.0f} {gflop:>12} {rate:>8}  {r.note}"
        )
        total_s += r.seconds
        total_f += r.flops or 0.0
    lines.append(
        f"{'total':<22} {total_s:>9.2f} {'':>14} {total_f / 1e9:>12,.0f} {total_f / total_s / 1e12:>8.3g}"
    )
    steps = bench.step_seconds
    if steps:
        lines.append("")
        lines.append(
            f"UNet step times (s): first {steps[0]:.2f}, median {sorted(steps)[len(steps) // 2]:.2f}, "
            f"all: {' '.join(f'{s:.2f}' for s in steps)}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--steps", type=int, default=50, help="denoising steps (default 50)")
    parser.add_argument("--size", type=int, default=512, help="view size of the diffusion (default 512)")
    parser.add_argument("--lrm-size", type=int, default=512, help="GS-LRM view size (default 512)")
    parser.add_argument("--frames", type=int, default=150, help="turntable frames (default 150)")
    parser.add_argument("--render-size", type=int, default=512, help="turntable size (default 512)")
    parser.add_argument(
        "--dtype",
        choices=("auto", "fp32", "fp16", "bf16"),
        default="auto",
        help="network precision (default: as the app: fp16 on CUDA, fp32 on the CPU)",
    )
    parser.add_argument(
        "--tiny", action="store_true", help="the tiny conformance networks (sizes are theirs)"
    )
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--json", action="store_true", help="also print the rows as JSON")
    args = parser.parse_args(argv)
    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        print("bench/pipeline.py: --device cuda: no CUDA device here", file=sys.stderr)
        return 2
    if args.size % 8 or args.lrm_size % 8:
        print("bench/pipeline.py: --size and --lrm-size must be multiples of 8", file=sys.stderr)
        return 2
    if args.threads:
        torch.set_num_threads(args.threads)
    bench, info = run(args)
    print(table(bench, info, args))
    if args.json:
        rows = [r.__dict__ | {"tflops": r.tflops} for r in bench.rows]
        print(json.dumps({"rows": rows, "unet_steps_s": bench.step_seconds, **info}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
