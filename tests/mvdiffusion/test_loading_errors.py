"""Broken weights folders give one-line errors that name the offending file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from engine.api import WeightsError
from engine.mvdiffusion.loading import load_components


@pytest.fixture()
def weights_copy(conformance_dir: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "weights"
    shutil.copytree(conformance_dir / "mvdiffusion", dst / "mvdiffusion")
    return dst


def _error(weights: Path) -> str:
    with pytest.raises(WeightsError) as info:
        load_components(weights)
    message = str(info.value)
    assert "\n" not in message
    return message


def _edit_unet_config(weights: Path, **changes: object) -> Path:
    path = weights / "mvdiffusion" / "pipeckpts" / "unet" / "config.json"
    cfg = json.loads(path.read_text())
    cfg.update(changes)
    path.write_text(json.dumps(cfg))
    return path


def test_copied_folder_loads(weights_copy: Path) -> None:
    comps = load_components(weights_copy)
    assert comps.resolution == 64
    assert comps.prompt_embeds_source == weights_copy / "mvdiffusion" / "clr_embeds.safetensors"


def test_missing_component_folder(weights_copy: Path) -> None:
    folder = weights_copy / "mvdiffusion" / "pipeckpts" / "vae"
    shutil.rmtree(folder)
    message = _error(weights_copy)
    assert str(folder) in message and "missing" in message


def test_corrupt_safetensors(weights_copy: Path) -> None:
    path = weights_copy / "mvdiffusion" / "pipeckpts" / "unet" / "diffusion_pytorch_model.safetensors"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    message = _error(weights_copy)
    assert str(path) in message and "corrupt" in message


def test_missing_weight_file(weights_copy: Path) -> None:
    path = weights_copy / "mvdiffusion" / "pipeckpts" / "image_encoder" / "model.safetensors"
    path.unlink()
    assert str(path) in _error(weights_copy)


@pytest.mark.parametrize("flag", ["cd_attention_mid", "cd_attention_last", "addition_downsample"])
def test_unsupported_flag(weights_copy: Path, flag: str) -> None:
    path = _edit_unet_config(weights_copy, **{flag: True})
    message = _error(weights_copy)
    assert str(path) in message and flag in message and "unsupported" in message


def test_unknown_key_and_selfattn_block(weights_copy: Path) -> None:
    path = _edit_unet_config(weights_copy, regress_elevation=True)
    message = _error(weights_copy)
    assert str(path) in message and "regress_elevation" in message
    _edit_unet_config(weights_copy, regress_elevation=None)
    cfg = json.loads(path.read_text())
    del cfg["regress_elevation"]
    cfg["selfattn_block"] = "self_rowwise"
    path.write_text(json.dumps(cfg))
    message = _error(weights_copy)
    assert str(path) in message and "selfattn_block" in message


def test_weights_that_do_not_fit_the_config(weights_copy: Path) -> None:
    path = _edit_unet_config(weights_copy, cross_attention_dim=64)
    message = _error(weights_copy)
    assert "diffusion_pytorch_model.safetensors" in message and "wrong shape" in message
    assert str(path.parent) in message


def test_prompt_embeds_of_the_wrong_width(weights_copy: Path) -> None:
    embeds = weights_copy / "mvdiffusion" / "clr_embeds.safetensors"
    embeds.unlink()
    # Falls back to the shipped 1024-wide embeddings, which do not fit the tiny UNet.
    message = _error(weights_copy)
    assert "clr_embeds.safetensors" in message and "(6, 77, 1024)" in message


def test_bare_tensor_pt_embeddings_and_bin_weights(weights_copy: Path) -> None:
    import torch
    from safetensors.torch import load_file

    mv = weights_copy / "mvdiffusion"
    embeds = load_file(str(mv / "clr_embeds.safetensors"))["prompt_embeds"]
    (mv / "clr_embeds.safetensors").unlink()
    torch.save(embeds.clone(), mv / "clr_embeds.pt")
    unet_dir = mv / "pipeckpts" / "unet"
    tensors = load_file(str(unet_dir / "diffusion_pytorch_model.safetensors"))
    (unet_dir / "diffusion_pytorch_model.safetensors").unlink()
    torch.save(tensors, unet_dir / "diffusion_pytorch_model.bin")
    comps = load_components(weights_copy)
    assert comps.prompt_embeds_source == mv / "clr_embeds.pt"
    assert torch.equal(comps.prompt_embeds, embeds)
    assert torch.equal(comps.unet.state_dict()["conv_in.weight"], tensors["conv_in.weight"])


def test_pickled_objects_are_refused(weights_copy: Path) -> None:
    import pickle

    mv = weights_copy / "mvdiffusion"
    (mv / "clr_embeds.safetensors").unlink()
    path = mv / "clr_embeds.pt"
    path.write_bytes(pickle.dumps(Path("x"), protocol=2))  # an object, not tensor data
    message = _error(weights_copy)
    assert str(path) in message
