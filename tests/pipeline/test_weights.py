"""engine.weights: locating, verifying and downloading the FaceLift weights."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine import weights as w
from engine.api import Cancelled, CancelToken, WeightsError


@pytest.fixture()
def no_env_weights(tmp_path, monkeypatch):
    """No FACELIFT_WEIGHTS and an empty per-user data folder."""
    monkeypatch.delenv(w.ENV_VAR, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "facelift-desktop" / "weights"


@pytest.fixture()
def weights_copy(tmp_path, conformance_dir) -> Path:
    """A writable copy of the tiny weights (the conformance folder minus the big test data)."""
    dst = tmp_path / "weights"
    shutil.copytree(conformance_dir / "mvdiffusion" / "pipeckpts", dst / "mvdiffusion" / "pipeckpts")
    (dst / "gslrm").mkdir(parents=True)
    for name in ("ckpt_0000000000000000.pt", "gslrm.yaml"):
        shutil.copy(conformance_dir / "gslrm" / name, dst / "gslrm" / name)
    shutil.copy(conformance_dir / "mvdiffusion" / "clr_embeds.safetensors", dst / "mvdiffusion")
    for p in dst.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    return dst


def _by_name(report: w.WeightsReport) -> dict[str, w.ComponentReport]:
    return {c.name: c for c in report.components}


def test_fixture_folder_verifies_component_by_component(conformance_dir):
    report = w.verify_weights(conformance_dir)
    comps = _by_name(report)
    assert report.ok, report.lines()
    for name in (
        "gslrm",
        "mvdiffusion/unet",
        "mvdiffusion/vae",
        "mvdiffusion/image_encoder",
        "mvdiffusion/scheduler",
        "mvdiffusion/clr_embeds",
    ):
        assert comps[name].status == "ok"
    assert comps["gslrm"].details["d"] == 64 and comps["gslrm"].details["n_layer"] == 2
    assert (
        comps["gslrm"].size_bytes == (conformance_dir / "gslrm" / "ckpt_0000000000000000.pt").stat().st_size
    )


def test_missing_component_is_reported_by_name(weights_copy):
    shutil.rmtree(weights_copy / "mvdiffusion" / "pipeckpts" / "vae")
    report = w.verify_weights(weights_copy)
    assert not report.ok
    assert [c.name for c in report.problems] == ["mvdiffusion/vae"]
    assert report.problems[0].status == "missing"
    assert "mvdiffusion/vae" in report.summary() and "\n" not in report.summary()


def test_truncated_checkpoints_are_broken(weights_copy):
    ckpt = weights_copy / "gslrm" / "ckpt_0000000000000000.pt"
    ckpt.write_bytes(ckpt.read_bytes()[: ckpt.stat().st_size // 2])
    unet = weights_copy / "mvdiffusion" / "pipeckpts" / "unet" / "diffusion_pytorch_model.safetensors"
    unet.write_bytes(unet.read_bytes()[:-1000])
    comps = _by_name(w.verify_weights(weights_copy))
    assert comps["gslrm"].status == "broken" and "cannot load" in comps["gslrm"].message
    assert comps["mvdiffusion/unet"].status == "broken"
    assert comps["mvdiffusion/vae"].status == "ok"


def test_checkpoint_that_does_not_match_its_config_is_broken(weights_copy):
    cfg = weights_copy / "gslrm" / "gslrm.yaml"
    cfg.write_text(cfg.read_text().replace("n_layer: 2", "n_layer: 3"))
    comp = _by_name(w.verify_weights(weights_copy))["gslrm"]
    assert comp.status == "broken" and "missing keys" in comp.message


def test_unet_config_shape_mismatch_is_broken(weights_copy):
    cfg = weights_copy / "mvdiffusion" / "pipeckpts" / "unet" / "config.json"
    cfg.write_text(cfg.read_text().replace('"in_channels": 8', '"in_channels": 4'))
    comp = _by_name(w.verify_weights(weights_copy))["mvdiffusion/unet"]
    assert comp.status == "broken" and "conv_in.weight" in comp.message


def test_search_order_explicit_then_env_then_user_folder(no_env_weights, weights_copy, monkeypatch):
    assert w.find_weights() is None
    user = no_env_weights
    shutil.copytree(weights_copy, user)
    assert w.find_weights() == user
    monkeypatch.setenv(w.ENV_VAR, str(weights_copy))
    assert w.find_weights() == weights_copy
    other = weights_copy.parent / "elsewhere"
    other.mkdir()
    assert w.find_weights(other) == other  # explicit wins, even if incomplete (verify says why)
    with pytest.raises(WeightsError, match="not found"):
        w.find_weights(weights_copy.parent / "nope")
    monkeypatch.setenv(w.ENV_VAR, str(other))  # an incomplete env folder is skipped
    assert w.find_weights() == user


def test_download_offline_is_one_line_error_and_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    target = tmp_path / "w"
    with pytest.raises(WeightsError) as info:
        w.download_weights(target, endpoint="http://127.0.0.1:9")
    assert "\n" not in str(info.value) and "OpenFaceLift" in str(info.value)
    assert not target.exists() and not w.staging_dir(target).exists()


def test_download_unreachable_endpoint_is_one_line_error(tmp_path):
    with pytest.raises(WeightsError, match="no connection"):
        w.download_weights(tmp_path / "w", endpoint="http://127.0.0.1:9")


class _FakeHub:
    """Stands in for the Hub: serves the tiny weights folder file by file."""

    def __init__(self, source: Path, cancel_after: int | None = None, cancel: CancelToken | None = None):
        self.files = sorted(str(p.relative_to(source)) for p in source.rglob("*") if p.is_file())
        self.source = source
        self.calls: list[str] = []
        self.cancel_after, self.cancel = cancel_after, cancel

    def model_info(self, repo_id, files_metadata=False):
        from types import SimpleNamespace

        siblings = [SimpleNamespace(rfilename=f, size=(self.source / f).stat().st_size) for f in self.files]
        return SimpleNamespace(siblings=siblings)

    def hf_hub_download(self, repo_id, filename, local_dir, endpoint=None):
        self.calls.append(filename)
        if self.cancel is not None and len(self.calls) == self.cancel_after:
            self.cancel.cancel()
        dst = Path(local_dir) / filename
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(self.source / filename, dst)
        return str(dst)


def _install_fake_hub(monkeypatch, hub: _FakeHub) -> None:
    import huggingface_hub

    class Api:
        def __init__(self, endpoint=None):
            pass

        model_info = staticmethod(hub.model_info)

    monkeypatch.setattr(huggingface_hub, "HfApi", Api)
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", hub.hf_hub_download)


def test_download_assembles_in_staging_then_renames(tmp_path, weights_copy, monkeypatch):
    hub = _FakeHub(weights_copy)
    _install_fake_hub(monkeypatch, hub)
    events = []
    target = tmp_path / "data" / "weights"
    got = w.download_weights(target, events.append)
    assert got == target and w.verify_weights(target).ok
    assert not w.staging_dir(target).exists()
    assert len(hub.calls) == len(hub.files)
    assert events[-1].message.startswith("weights ready")
    assert any(e.total > 0 and e.step == e.total for e in events)


def test_download_cancel_keeps_target_unset_and_resumes(tmp_path, weights_copy, monkeypatch):
    cancel = CancelToken()
    hub = _FakeHub(weights_copy, cancel_after=3, cancel=cancel)
    _install_fake_hub(monkeypatch, hub)
    target = tmp_path / "dl" / "weights"
    with pytest.raises(Cancelled):
        w.download_weights(target, cancel=cancel)
    assert not target.exists()
    assert w.staging_dir(target).is_dir()  # kept, so the next attempt resumes
    hub.cancel = None
    w.download_weights(target)
    assert w.verify_weights(target).ok and not w.staging_dir(target).exists()


def test_broken_download_is_not_renamed_into_place(tmp_path, weights_copy, monkeypatch):
    (weights_copy / "mvdiffusion" / "pipeckpts" / "unet" / "diffusion_pytorch_model.safetensors").unlink()
    _install_fake_hub(monkeypatch, _FakeHub(weights_copy))
    target = tmp_path / "dl" / "weights"
    with pytest.raises(WeightsError, match="incomplete"):
        w.download_weights(target)
    assert not target.exists()


def test_license_notice_says_non_commercial():
    assert "non-commercial" in w.LICENSE_NOTICE
