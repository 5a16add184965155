"""The environment facts: each probe answers in one line, and says so when something is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.api import InputError
from engine.doctor import environment as envmod
from engine.render.dispatch import RENDERER_ENV, resolve_backend

PROC_VERSION = (
    "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.14  Thu Feb 22 01:44:30 UTC 2024\n"
    "GCC version:  gcc version 12.2.0 (Debian 12.2.0-14)\n"
)


def test_driver_version_from_the_kernel_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    proc = tmp_path / "version"
    proc.write_text(PROC_VERSION)
    assert envmod.nvidia_driver_version(proc) == "550.54.14"
    open_kernel = PROC_VERSION.replace("Kernel Module", "Kernel Module for x86_64")
    proc.write_text(open_kernel)
    assert envmod.nvidia_driver_version(proc) == "550.54.14"
    monkeypatch.setattr(envmod.gpu_status.shutil, "which", lambda _name: None)
    assert envmod.nvidia_driver_version(tmp_path / "absent") is None


def test_this_machine_has_no_gpu_and_says_so() -> None:
    env = envmod.collect(probe_gl=False)
    text = dict(env.lines)
    assert env.gpus == [] and env.facts["gpus"] == []
    assert text["GPU"].startswith("no CUDA device")
    assert "CUDA rasteriser not usable: no CUDA device" in text["gsplat"] and not env.gsplat_ok
    assert text["OpenGL"] == "not probed"
    assert env.facts["torch"]["version"] and "build" in text["torch"]


def test_ffmpeg_has_h264() -> None:
    h264, text = envmod.ffmpeg_facts()
    assert h264 and "libx264) yes" in text


def test_no_display_means_no_gl_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert envmod.opengl_renderer() == "no display"


@pytest.mark.gl
def test_gl_probe_reports_the_renderer_of_this_display() -> None:
    if not envmod.has_display():
        pytest.skip("needs a display (run under xvfb-run)")
    text = envmod.opengl_renderer()
    assert "OpenGL" in text and not text.startswith(("unknown", "not usable")), text


def test_frozen_app_is_asked_through_its_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(envmod.sys, "frozen", True, raising=False)
    cmd, env = envmod.gl_probe_command()
    assert cmd == [envmod.sys.executable] and env[envmod.GL_PROBE_ENV] == "1"


def test_weights_not_found_says_the_instant_engine_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FACELIFT_WEIGHTS", str(tmp_path / "none"))
    monkeypatch.setattr("engine.weights.user_weights_dir", lambda: tmp_path / "user")
    text, facts = envmod.weights_facts()
    assert text.startswith("not found") and "instant engine" in text and facts["ok"] is False


def test_weights_folder_is_verified(tmp_path: Path) -> None:
    from engine.conformance import reference_dir

    text, facts = envmod.weights_facts(reference_dir())
    assert facts["ok"] is True and "complete" in text
    text, facts = envmod.weights_facts(tmp_path)
    assert facts["ok"] is False


def test_renderer_can_be_chosen_through_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(RENDERER_ENV, "torch")
    assert resolve_backend("auto") == "torch-cpu"
    assert resolve_backend("torch-cpu") == "torch-cpu"
    monkeypatch.setenv(RENDERER_ENV, "opengl")
    with pytest.raises(InputError, match=f"{RENDERER_ENV}=opengl: not a renderer"):
        resolve_backend("auto")
