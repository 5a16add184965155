"""Each conformance check passes on the shipped fixtures and FAILS, with the right advice, when
the fixture or the code it checks is broken on purpose. The CUDA branches are the same functions
with another device/dtype: the fp16/bf16 and replayed-draw paths run here on the CPU."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from engine.conformance import RENDER_EXPECTED, reference_dir
from engine.doctor import checks
from engine.doctor.run import CheckSpec, advise, run_check


def _result(check: str, fixtures: Path, dtype: str = "fp32", backend: str = ""):
    spec = CheckSpec(check, "cpu", dtype, backend)
    result = run_check(spec, fixtures, RENDER_EXPECTED)
    result.advice = advise(result, [result]) if result.status == "FAIL" else ""
    return result


@pytest.mark.parametrize("dtype", ["fp32", "fp16", "bf16"])
def test_gslrm_passes_in_every_dtype_with_its_error_printed(dtype: str) -> None:
    result = _result("gslrm", reference_dir(), dtype)
    assert result.status == "PASS", result.line()
    assert 0 < result.error <= result.tolerance
    assert f"{result.error:.1e}" in result.line() and "kept points differ" in result.line()


def test_perturbed_gslrm_fixture_fails_and_says_heads_are_affected(fixtures_copy: Path) -> None:
    path = fixtures_copy / "gslrm" / "expected.npz"
    with np.load(path) as f:
        data = {k: f[k] for k in f.files}
    data["xyz"] = data["xyz"] + np.float32(1e-3)
    np.savez(path, **data)
    result = _result("gslrm", fixtures_copy)
    assert result.status == "FAIL"
    assert result.error == pytest.approx(1e-3, rel=0.01)
    assert "largest in xyz" in result.detail
    assert "3D heads" in result.advice and "facelift doctor --json" in result.advice


@pytest.mark.parametrize("dtype", ["fp32", "fp16", "bf16"])
def test_unet_step_passes_in_every_dtype(dtype: str) -> None:
    result = _result("unet", reference_dir(), dtype)
    assert result.status == "PASS", result.line()
    assert result.error <= result.tolerance


def test_unet_that_matches_dense_attention_fails(fixtures_copy: Path) -> None:
    """A fixture whose expected output is the dense-attention one: what an engine that silently
    fell back to dense attention would produce. The check must not accept it."""
    path = fixtures_copy / "mvdiffusion" / "unet_io.safetensors"
    io = load_file(str(path))
    io["out_sparse"], io["out_dense"] = io["out_dense"].clone(), io["out_sparse"].clone()
    save_file(io, str(path))
    result = _result("unet", fixtures_copy)
    assert result.status == "FAIL"
    assert "NOT clearly the sparse attention" in result.detail
    assert "generated views" in result.advice


def test_sampler_passes_from_the_seed_and_with_replayed_draws() -> None:
    seeded = _result("sampler", reference_dir())
    assert seeded.status == "PASS" and "seed 4" in seeded.detail
    # The CUDA branch replays the recorded draws; the same code on the CPU gives the same run.
    replayed = checks.check_sampler(reference_dir(), "cpu", "fp32", replay=True)
    assert replayed.passed and "replayed draws" in replayed.detail
    assert replayed.error == pytest.approx(seeded.error, abs=1e-6)


@pytest.mark.parametrize("dtype", ["fp16", "bf16"])
def test_sampler_in_reduced_precision_passes_with_its_own_tolerance(dtype: str) -> None:
    outcome = checks.check_sampler(reference_dir(), "cpu", dtype, replay=True)
    assert outcome.passed, (outcome.error, outcome.conditions)
    assert checks.tolerance("sampler", "cpu", "fp32") < outcome.error <= outcome.tolerance


def test_perturbed_sampler_fixture_fails(fixtures_copy: Path) -> None:
    path = fixtures_copy / "mvdiffusion" / "pipeline_run" / "latents_final.safetensors"
    latents = load_file(str(path))["latents"]
    save_file({"latents": latents + 0.01}, str(path))
    result = _result("sampler", fixtures_copy)
    assert result.status == "FAIL" and result.error == pytest.approx(0.01, rel=0.01)
    assert "diffusion sampler" in result.advice


def test_renderer_passes_and_a_broken_rasteriser_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    good = _result("render", reference_dir(), backend="torch-cpu")
    assert good.status == "PASS" and good.error <= 1e-4

    import engine.render.torch_raster as raster

    real = raster.rasterize

    def off_by_a_bit(*args, **kwargs):  # a rasteriser whose colours drift by 2 %
        rgb, alpha, depth = real(*args, **kwargs)
        return rgb * 0.98, alpha, depth

    monkeypatch.setattr(raster, "rasterize", off_by_a_bit)
    bad = _result("render", reference_dir(), backend="torch-cpu")
    assert bad.status == "FAIL" and bad.error > 1e-3
    assert "turntable" in bad.advice


def test_a_check_that_crashes_is_a_failure_not_a_crash(fixtures_copy: Path) -> None:
    (fixtures_copy / "gslrm" / "inputs.npz").write_bytes(b"not a npz")
    result = _result("gslrm", fixtures_copy)
    assert result.status == "FAIL" and result.error is None
    assert "could not run" in result.detail and "no measurement" in result.line()


def test_every_device_and_dtype_has_a_tolerance() -> None:
    for check in ("gslrm", "unet", "sampler"):
        for device in ("cpu", "cuda"):
            for dtype in ("fp32", "fp16", "bf16"):
                assert checks.tolerance(check, device, dtype) > 0
        assert checks.tolerance(check, "cuda", "fp32") > checks.tolerance(check, "cpu", "fp32")
    assert set(checks.RENDER_TOL) == {"torch-cpu", "torch-cuda", "gsplat-cuda"}
    assert torch.float16 in checks.TORCH_DTYPES.values()
