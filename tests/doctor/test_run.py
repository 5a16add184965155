"""Which checks run on which computer, what a failure tells the user, the memory preset, and
the `facelift doctor` command's output and exit code."""

from __future__ import annotations

import pytest

from engine.doctor.environment import GpuInfo
from engine.doctor.run import CheckResult, CheckSpec, advise, plan, recommend_preset

GIB = 2**30


def _gpu(free_gib: float, capability: tuple[int, int] = (8, 6)) -> GpuInfo:
    return GpuInfo(0, "Test GPU", int(free_gib * GIB), 24 * GIB, capability, bf16=capability >= (8, 0))


def _specs(items) -> list[tuple[str, str, str, str]]:
    return [(i.check, i.device, i.dtype, i.backend) for i in items if isinstance(i, CheckSpec)]


def _skips(items) -> list[CheckResult]:
    return [i for i in items if isinstance(i, CheckResult)]


def test_plan_without_cuda_runs_the_cpu_checks_and_skips_cuda_as_no_cuda_device() -> None:
    items = plan([], gsplat_ok=False)
    assert _specs(items) == [
        ("gslrm", "cpu", "fp32", ""),
        ("unet", "cpu", "fp32", ""),
        ("sampler", "cpu", "fp32", ""),
        ("render", "cpu", "fp32", "torch-cpu"),
    ]
    skips = _skips(items)
    assert len(skips) == 5 and all(s.status == "SKIP" and s.detail == "no CUDA device" for s in skips)
    assert {s.spec.backend for s in skips if s.spec.check == "render"} == {"torch-cuda", "gsplat-cuda"}


def test_plan_on_a_bf16_gpu_with_gsplat_runs_every_dtype_and_both_rasterisers() -> None:
    specs = _specs(plan([_gpu(20)], gsplat_ok=True))
    for dtype in ("fp32", "fp16", "bf16"):
        for check in ("gslrm", "unet", "sampler"):
            assert (check, "cuda", dtype, "") in specs
    for backend in ("torch-cuda", "gsplat-cuda"):
        assert ("render", "cuda", "fp32", backend) in specs


def test_plan_on_an_older_gpu_skips_bf16_and_a_gsplat_that_does_not_run() -> None:
    items = plan([_gpu(6, (7, 5))], gsplat_ok=False, gsplat_reason="gsplat does not import")
    specs = _specs(items)
    assert not any(s[2] == "bf16" for s in specs) and ("unet", "cuda", "fp16", "") in specs
    details = [s.detail for s in _skips(items)]
    assert sum("no bf16 (compute capability 7.5" in d for d in details) == 3
    assert any("gsplat does not import" in d for d in details)


@pytest.mark.parametrize(
    ("free_gib", "preset"), [(20.0, "full"), (8.0, "full"), (6.0, "offload"), (4.0, "offload"), (3.0, "low")]
)
def test_recommended_preset_follows_free_gpu_memory(free_gib: float, preset: str) -> None:
    name, reason = recommend_preset([_gpu(free_gib)], [])
    assert name == preset and "Test GPU" in reason


def test_recommended_preset_is_cpu_without_a_gpu_or_when_fp16_diffusion_fails() -> None:
    assert recommend_preset([], [])[0] == "cpu"
    failed = CheckResult(CheckSpec("unet", "cuda", "fp16"), "FAIL", 0.5, 1e-2)
    name, reason = recommend_preset([_gpu(20)], [failed])
    assert name == "cpu" and "fp16" in reason
    only_bf16 = CheckResult(CheckSpec("unet", "cuda", "bf16"), "FAIL", 0.5, 8e-2)
    assert recommend_preset([_gpu(20)], [only_bf16])[0] == "full"


def _fail(check: str, device: str, dtype: str = "fp32", backend: str = "") -> CheckResult:
    return CheckResult(CheckSpec(check, device, dtype, backend), "FAIL", 1.0, 1e-3)


def test_advice_names_what_breaks_and_what_to_do() -> None:
    fp16 = _fail("unet", "cuda", "fp16")
    fp32_ok = CheckResult(CheckSpec("unet", "cuda", "fp32"), "PASS", 1e-4, 5e-3)
    text = advise(fp16, [fp32_ok, fp16])
    assert "fp16 UNet step on this GPU differs" in text and "right in fp32" in text
    assert "--memory-preset cpu" in text and "generated views" in text
    assert "wrong in fp32 too" in advise(fp16, [_fail("unet", "cuda"), fp16])
    assert "--device cpu" in advise(_fail("gslrm", "cuda", "fp16"), [])
    assert "even in fp32" in advise(_fail("sampler", "cuda"), [])
    assert "the app uses fp16" in advise(_fail("gslrm", "cuda", "bf16"), [])
    assert "FACELIFT_RENDERER=torch" in advise(_fail("render", "cuda", backend="gsplat-cuda"), [])
    assert "FACELIFT_RENDERER=torch-cpu" in advise(_fail("render", "cuda", backend="torch-cuda"), [])
    assert "3D heads" in advise(_fail("gslrm", "cpu"), [])
