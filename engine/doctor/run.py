"""``run_doctor``: the environment, then every conformance check this computer can run, one
result per line, the memory preset to use, and what a failure means for the user.

Which checks run (:func:`plan`): on the CPU fp32 -- what the app runs there; on the first CUDA
device (the one the app uses) fp32, fp16 (the app's diffusion and GS-LRM precision) and bf16
where the GPU supports it; the renderer with our torch rasteriser on each device and with
gsplat's CUDA rasteriser when it runs. Checks that cannot run here are SKIP lines with the
reason ("no CUDA device"); they are not failures. The run passes when every check that ran passed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from engine.doctor.environment import Environment, GpuInfo
from engine.settings import auto_gpu_preset

Status = Literal["PASS", "FAIL", "SKIP"]
CHECK_LABELS: dict[str, str] = {
    "gslrm": "GS-LRM",
    "unet": "UNet step",
    "sampler": "sampler",
    "render": "renderer",
}
CHECK_WHAT: dict[str, str] = {
    "gslrm": "GS-LRM, 6 views of 64x64 -> 24,578 Gaussians",
    "unet": "one multi-view UNet call, 2 x 6 views",
    "sampler": "the whole sampler: CLIP, VAE, 3 DDIM steps, decode",
    "render": "3 views of 5,083 Gaussians, 64x64",
}


@dataclass(frozen=True)
class CheckSpec:
    """One check to run. device: "cpu" | "cuda"; dtype: "fp32" | "fp16" | "bf16";
    backend: the rasteriser for "render" ("torch-cpu", "torch-cuda", "gsplat-cuda")."""

    check: str
    device: str
    dtype: str = "fp32"
    backend: str = ""

    @property
    def target(self) -> str:
        return self.backend if self.check == "render" else f"{self.device} {self.dtype}"


@dataclass
class CheckResult:
    """A check's line: status, the measurement (or why it did not run) and, on FAIL, advice."""

    spec: CheckSpec
    status: Status
    error: float | None = None
    tolerance: float | None = None
    detail: str = ""
    advice: str = ""
    seconds: float = 0.0

    def line(self) -> str:
        label = f"{CHECK_LABELS[self.spec.check]:<10} {self.spec.target:<12}"
        if self.status == "SKIP":
            return f"SKIP  {label} {self.detail}"
        measured = (
            f"max|Δ| {self.error:.1e} (≤ {self.tolerance:.0e})"
            if self.error is not None and self.tolerance is not None
            else "no measurement"
        )
        return f"{self.status}  {label} {measured}  {self.detail}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "check": self.spec.check,
            "device": self.spec.device,
            "dtype": self.spec.dtype,
            "backend": self.spec.backend or None,
            "status": self.status,
            "error": self.error,
            "tolerance": self.tolerance,
            "detail": self.detail,
            "advice": self.advice or None,
            "seconds": round(self.seconds, 2),
        }


@dataclass
class DoctorReport:
    """Everything ``facelift doctor`` found."""

    environment: Environment
    results: list[CheckResult] = field(default_factory=list)
    preset: str = "cpu"
    preset_reason: str = ""

    @property
    def ok(self) -> bool:
        """True when every check that ran passed (SKIP lines do not count)."""
        return all(r.status != "FAIL" for r in self.results)

    @property
    def failures(self) -> list[CheckResult]:
        return [r for r in self.results if r.status == "FAIL"]


def plan(gpus: list[GpuInfo], gsplat_ok: bool, gsplat_reason: str = "") -> list[CheckSpec | CheckResult]:
    """The checks for this computer, in order; a CheckResult (SKIP) for those that cannot run."""
    out: list[CheckSpec | CheckResult] = [CheckSpec(c, "cpu") for c in ("gslrm", "unet", "sampler")]
    out.append(CheckSpec("render", "cpu", backend="torch-cpu"))
    if not gpus:
        for c in ("gslrm", "unet", "sampler"):
            out.append(CheckResult(CheckSpec(c, "cuda", "*"), "SKIP", detail="no CUDA device"))
        for backend in ("torch-cuda", "gsplat-cuda"):
            out.append(
                CheckResult(CheckSpec("render", "cuda", backend=backend), "SKIP", detail="no CUDA device")
            )
        return out
    gpu = gpus[0]
    for dtype in ("fp32", "fp16", "bf16"):
        for c in ("gslrm", "unet", "sampler"):
            if dtype == "bf16" and not gpu.bf16:
                major, minor = gpu.capability
                why = f"{gpu.name} has no bf16 (compute capability {major}.{minor} < 8.0); the app does not use it"
                out.append(CheckResult(CheckSpec(c, "cuda", dtype), "SKIP", detail=why))
            else:
                out.append(CheckSpec(c, "cuda", dtype))
    out.append(CheckSpec("render", "cuda", backend="torch-cuda"))
    if gsplat_ok:
        out.append(CheckSpec("render", "cuda", backend="gsplat-cuda"))
    else:
        why = f"gsplat's CUDA rasteriser does not run ({gsplat_reason or 'see above'}); the app uses its own"
        out.append(CheckResult(CheckSpec("render", "cuda", backend="gsplat-cuda"), "SKIP", detail=why))
    return out


def recommend_preset(gpus: list[GpuInfo], results: list[CheckResult]) -> tuple[str, str]:
    """(memory preset, why) for this computer: by the free memory of the GPU the app uses, and
    "cpu" when the GPU's fp16 diffusion (what every GPU preset runs) failed its checks."""
    if not gpus:
        return "cpu", "no CUDA device: FaceLift runs on the CPU (fp32), slowly"
    broken = [
        r
        for r in results
        if r.status == "FAIL" and r.spec.device == "cuda" and r.spec.check in ("unet", "sampler")
    ]
    if any(r.spec.dtype == "fp16" for r in broken):
        return (
            "cpu",
            "the GPU's fp16 diffusion failed its check (see above); the CPU computes the reference's function",
        )
    free = gpus[0].free_bytes / 2**30
    preset = auto_gpu_preset(gpus[0].free_bytes)
    where = f"{free:.1f} GiB free on {gpus[0].name}"
    reasons = {
        "full": f"{where}: every network stays on the GPU",
        "offload": f"{where}: one network on the GPU at a time",
        "low": f"only {where}: one network at a time, the VAE one view at a time",
    }
    return preset, reasons[preset]


_WHAT_BREAKS: dict[str, str] = {
    "gslrm": "the 3D heads (GS-LRM turns the six views into Gaussians)",
    "unet": "the six generated views (the diffusion UNet)",
    "sampler": "the six generated views (the diffusion sampler)",
    "render": "what you see: output.png, turntable videos and PNG exports",
}


def advise(result: CheckResult, results: list[CheckResult]) -> str:
    """What a failed check means for the user and what to do, in one or two sentences."""
    spec = result.spec
    broken = _WHAT_BREAKS[spec.check]
    report = "Please report it with the output of `facelift doctor --json`."
    if spec.check == "render":
        if spec.backend == "gsplat-cuda":
            return (
                f"gsplat's CUDA rasteriser draws differently here, which affects {broken}: set "
                "FACELIFT_RENDERER=torch to use the app's own rasteriser on the GPU. " + report
            )
        if spec.backend == "torch-cuda":
            return f"The torch rasteriser on the GPU draws wrong images, which affects {broken}: set FACELIFT_RENDERER=torch-cpu. {report}"
        return f"The CPU rasteriser draws wrong images here, which affects {broken}. {report}"
    if spec.device == "cpu":
        return f"On the CPU this computer does not compute FaceLift's function, which affects {broken}: results made here would be wrong. {report}"
    same_gpu_fp32 = [
        r
        for r in results
        if r.spec.device == "cuda" and r.spec.dtype == "fp32" and r.spec.check == spec.check
    ]
    fp32_ok = bool(same_gpu_fp32) and same_gpu_fp32[0].status == "PASS"
    if spec.dtype == "fp32":
        return f"The GPU computes {broken} wrongly even in fp32 (a driver or library problem): use --device cpu (slow) until it is fixed. {report}"
    if spec.dtype == "bf16":
        return f"bf16 on this GPU differs from the reference, which affects {broken} only if you ask for bf16; the app uses fp16. No action needed unless fp16 fails too."
    hint = (
        "the GPU is right in fp32, so its fp16 path loses precision"
        if fp32_ok
        else "the GPU is wrong in fp32 too"
    )
    option = "--memory-preset cpu" if spec.check in ("unet", "sampler") else "--device cpu"
    return f"fp16 {CHECK_LABELS[spec.check]} on this GPU differs from the reference ({hint}), which affects {broken}: use {option} (fp32 on the CPU, slow). {report}"


def _runner(spec: CheckSpec, fixtures: Path, render_expected: Path) -> Callable[[], Any]:
    from engine.doctor import checks

    if spec.check == "gslrm":
        return lambda: checks.check_gslrm(fixtures, spec.device, spec.dtype)
    if spec.check == "unet":
        return lambda: checks.check_unet(fixtures, spec.device, spec.dtype)
    if spec.check == "sampler":
        return lambda: checks.check_sampler(fixtures, spec.device, spec.dtype)
    return lambda: checks.check_render(render_expected, spec.backend)


def run_check(spec: CheckSpec, fixtures: Path, render_expected: Path) -> CheckResult:
    """Run one check; an exception is a FAIL whose detail names it (never a crash of the doctor)."""
    t0 = time.perf_counter()
    try:
        outcome = _runner(spec, fixtures, render_expected)()
    except Exception as exc:
        text = " ".join(f"{type(exc).__name__}: {exc}".split())[:240]
        return CheckResult(spec, "FAIL", detail=f"could not run ({text})", seconds=time.perf_counter() - t0)
    failed = outcome.failed_conditions()
    detail = outcome.detail if not failed else "; ".join(["NOT " + f for f in failed] + [outcome.detail])
    return CheckResult(
        spec,
        "PASS" if outcome.passed else "FAIL",
        error=outcome.error,
        tolerance=outcome.tolerance,
        detail=detail,
        seconds=time.perf_counter() - t0,
    )


def run_doctor(
    fixtures: Path | None = None,
    render_expected: Path | None = None,
    weights_dir: Path | str | None = None,
    opengl: str | None = None,
    probe_gl: bool = True,
    environment: Environment | None = None,
    on_result: Callable[[CheckResult], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> DoctorReport:
    """Collect the environment and run every applicable check.

    fixtures / render_expected: the conformance data (default: the copy shipped in
    engine/conformance). on_result: called with each result as it is known (a terminal or a
    dialog prints it at once). should_stop: polled between checks (a dialog's Cancel); the
    remaining checks are then left out of the report. The tiny networks run on one torch
    thread (faster than two on a busy machine, and the tolerances hold for any count).
    """
    import torch

    from engine.conformance import RENDER_EXPECTED, reference_dir
    from engine.doctor.environment import collect

    fixtures = Path(fixtures) if fixtures is not None else reference_dir()
    render_expected = Path(render_expected) if render_expected is not None else RENDER_EXPECTED
    env = environment if environment is not None else collect(weights_dir, opengl=opengl, probe_gl=probe_gl)
    report = DoctorReport(env)
    emit = on_result or (lambda _r: None)
    gsplat_reason = str(env.facts.get("gsplat", {}).get("text", ""))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for item in plan(env.gpus, env.gsplat_ok, gsplat_reason):
            if should_stop is not None and should_stop():
                break
            result = item if isinstance(item, CheckResult) else run_check(item, fixtures, render_expected)
            report.results.append(result)
            emit(result)
    finally:
        torch.set_num_threads(threads)
    for r in report.failures:
        r.advice = advise(r, report.results)
    report.preset, report.preset_reason = recommend_preset(env.gpus, report.results)
    return report
