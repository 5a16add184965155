"""bench --compare's pieces: the xformers stand-in computes attention exactly as torch's SDPA in
both layouts FaceLift passes, weights are the same whatever the module order, and the report's
ratios are ours / reference."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

REPO = Path(__file__).resolve().parents[2]


def test_xformers_stand_in_is_sdpa_in_both_layouts(bench_module) -> None:
    ref = bench_module("reference_code")
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 3, 10, 8, generator=g) for _ in range(3))  # (B, H, M, K)
    expected = F.scaled_dot_product_attention(q, k, v)
    bmhk = ref._memory_efficient_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2))
    torch.testing.assert_close(bmhk.transpose(1, 2), expected)  # GS-LRM's (B, M, H, K)
    flat = ref._memory_efficient_attention(q.flatten(0, 1), k.flatten(0, 1), v.flatten(0, 1))
    torch.testing.assert_close(flat.view_as(expected), expected)  # the UNet's (B*H, M, K)
    with pytest.raises(NotImplementedError):
        ref._memory_efficient_attention(q, k, v, attn_bias=torch.zeros(1))


def test_weights_do_not_depend_on_module_order(bench_module) -> None:
    compare = bench_module("compare")
    shapes = [("b.weight", (3, 2)), ("a.weight", (4,)), ("a.bias", (4,)), ("c.weight", (2, 2))]
    one = compare.weights_for(shapes, seed=1)
    two = compare.weights_for(list(reversed(shapes)), seed=1)
    assert all(torch.equal(one[k], two[k]) for k in one)
    assert torch.equal(one["a.weight"], torch.ones(4)) and torch.equal(one["a.bias"], torch.zeros(4))


def test_report_ratios_are_ours_over_the_reference(bench_module) -> None:
    compare = bench_module("compare")
    results = [
        {"impl": "ours", "seconds": 9.0, "peak_rss_mb": 100.0, "checksum": 0.5, "profile": {"aten::mm": 5.0}},
        {"impl": "ref", "seconds": 10.0, "peak_rss_mb": 200.0, "checksum": 0.5, "profile": {"aten::mm": 6.0}},
        {"impl": "ref", "seconds": 12.0, "peak_rss_mb": 200.0, "checksum": 0.5, "profile": {}},
        {"impl": "ours", "seconds": 11.0, "peak_rss_mb": 100.0, "checksum": 0.5, "profile": {}},
    ]
    text = compare.report("title", results)
    assert "ours / reference: 0.900 by minimum, 0.909 by median; peak RSS 0.500" in text
    assert "aten::mm" in text and "rel. diff 0.0e+00" in text


def test_xformers_stand_in_runs_the_fused_kernel_like_ours(bench_module) -> None:
    """The UNet's 3-D layout must not fall back to SDPA's math path (a full score matrix, slower
    and ~8 GB at the released size): the comparison would then time a kernel FaceLift never runs."""
    from torch.profiler import ProfilerActivity, profile

    ref = bench_module("reference_code")
    q, k, v = (torch.randn(6, 16, 8, generator=torch.Generator().manual_seed(i)) for i in range(3))
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        ref._memory_efficient_attention(q, k, v)
    ops = {event.key for event in prof.key_averages()}
    assert "aten::_scaled_dot_product_flash_attention_for_cpu" in ops
    assert "aten::_softmax" not in ops


def test_report_gives_the_cpu_time_ratio_when_children_measured_it(bench_module) -> None:
    compare = bench_module("compare")
    row = {"peak_rss_mb": 1.0, "checksum": 0.5, "profile": {}}
    results = [
        {**row, "impl": "ours", "seconds": 9.0, "cpu_seconds": 16.0},
        {**row, "impl": "ref", "seconds": 8.0, "cpu_seconds": 20.0},
    ]
    text = compare.report("title", results)
    assert "ours / reference by CPU time: 0.800 by minimum, 0.800 by median" in text
    seconds, cpu_seconds, out, ops = compare.time_call(lambda: torch.ones(3), warmup=False, profile=False)
    assert seconds >= 0 and cpu_seconds >= 0 and torch.equal(out, torch.ones(3)) and ops == {}
