"""bench/pipeline.py: one tiny reconstruction stage by stage (the fp16 path that runs on CUDA,
here on the CPU), the CUDA memory meter against a stand-in for torch.cuda, and the FLOP counter."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[2]
STAGES = (
    "preprocess",
    "CLIP image encoder",
    "VAE encode",
    "UNet, 2 steps",
    "VAE decode",
    "GS-LRM",
    "filter",
    "PLY write",
    "turntable",
)


def test_tiny_reconstruction_reports_every_stage(bench_module, capsys: pytest.CaptureFixture[str]) -> None:
    bench = bench_module("pipeline")
    before = torch.get_num_threads()
    try:
        code = bench.main(
            [
                "--device",
                "cpu",
                "--tiny",
                "--dtype",
                "fp16",
                "--steps",
                "2",
                "--frames",
                "2",
                "--render-size",
                "32",
                "--threads",
                "1",
            ]
        )
    finally:
        torch.set_num_threads(before)
    out = capsys.readouterr().out
    assert code == 0
    assert "FaceLift pipeline on cpu (fp16), tiny conformance networks" in out
    assert "2 denoising steps" in out and "measured under load" in out
    # stage (22 columns), then time, peak MB, GFLOP, TFLOP/s and a note
    rows = {line[:22].strip(): line[22:].split() for line in out.splitlines() if line[:1].isalpha()}
    for stage in STAGES:
        assert stage in rows, stage
    for stage in ("CLIP image encoder", "VAE encode", "UNet, 2 steps", "VAE decode", "GS-LRM"):
        _time, _peak, gflop, rate, *_note = rows[stage]
        assert float(gflop.replace(",", "")) > 0 and float(rate) > 0, rows[stage]
    steps_line = next(line for line in out.splitlines() if line.startswith("UNet step times"))
    assert len(steps_line.split("all:")[1].split()) == 2


def test_cuda_memory_meter_reads_the_allocator_peak(bench_module, monkeypatch: pytest.MonkeyPatch) -> None:
    bench = bench_module("pipeline")
    calls: list[str] = []
    monkeypatch.setattr(torch.cuda, "synchronize", lambda *a: calls.append("sync"))
    monkeypatch.setattr(torch.cuda, "reset_peak_memory_stats", lambda *a: calls.append("reset"))
    monkeypatch.setattr(torch.cuda, "max_memory_allocated", lambda *a: 123 * 2**20)
    with bench.MemoryMeter("cuda") as meter:
        calls.append("work")
    assert calls == ["sync", "reset", "work", "sync"]
    assert meter.peak == 123 * 2**20


def test_cpu_memory_meter_samples_the_resident_set(bench_module) -> None:
    bench = bench_module("pipeline")
    with bench.MemoryMeter("cpu") as meter:
        block = torch.ones(64 * 2**20 // 4)  # 64 MiB touched
        block.add_(1)
    assert meter.peak > 64 * 2**20


def test_flop_counter_counts_multiply_adds_twice_on_meta_tensors(bench_module) -> None:
    fullsize = bench_module("fullsize")
    layer = torch.nn.Linear(3, 4, bias=False, device="meta")
    assert fullsize.count_flops(lambda: layer(torch.empty(5, 3, device="meta"))) == 2 * 5 * 3 * 4


def test_dtype_follows_the_app_unless_asked(bench_module) -> None:
    bench = bench_module("pipeline")
    assert bench.resolve_dtype("auto", "cuda") == "fp16"
    assert bench.resolve_dtype("auto", "cpu") == "fp32"
    assert bench.resolve_dtype("bf16", "cuda") == "bf16"
