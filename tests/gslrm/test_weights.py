"""Loading GS-LRM weights: the release layout, the full-size key set, and every refusal."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.api import InputError, WeightsError
from engine.gslrm.checkpoint import build_model, find_checkpoint
from engine.gslrm.config import GSLRMConfig
from engine.gslrm.reconstructor import GSLRMReconstructor

CKPT_NAME = "ckpt_0000000000000000.pt"


def _full_size_key_list(key_file: Path) -> dict[str, tuple[int, ...]]:
    out = {}
    for line in key_file.read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        key, shape, _dtype = line.split("\t")
        if not key.startswith("loss_calculator."):
            out[key] = tuple(int(s) for s in shape.strip("()").split(",") if s.strip())
    return out


def test_full_size_model_has_exactly_the_released_keys_and_shapes(fixtures_dir):
    expected = _full_size_key_list(fixtures_dir / "state_dict_keys" / "gslrm_state_dict_keys.txt")
    assert len(expected) == 183 - 32
    model = build_model(GSLRMConfig(), "meta")
    ours = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert ours == expected
    assert sum(int(np.prod(s)) for s in ours.values()) == 303_565_824


def _tiny_state(conformance_dir: Path) -> dict:
    return torch.load(conformance_dir / "gslrm" / CKPT_NAME, weights_only=True)


def _weights_dir(tmp_path: Path, conformance_dir: Path, ckpt: dict | None = None) -> Path:
    folder = tmp_path / "weights" / "gslrm"
    folder.mkdir(parents=True)
    shutil.copy(conformance_dir / "gslrm" / "gslrm.yaml", folder / "gslrm.yaml")
    if ckpt is None:
        shutil.copy(conformance_dir / "gslrm" / CKPT_NAME, folder / CKPT_NAME)
    else:
        torch.save(ckpt, folder / CKPT_NAME)
    return folder.parent


def _load_error(weights: Path) -> str:
    with pytest.raises(WeightsError) as info:
        GSLRMReconstructor.from_weights(weights, device="cpu")
    message = str(info.value)
    assert "\n" not in message
    return message


def test_loss_calculator_keys_are_ignored_and_other_keys_are_used(conformance_dir):
    state = _tiny_state(conformance_dir)["model"]
    assert any(k.startswith("loss_calculator.") for k in state)
    rec = GSLRMReconstructor.from_weights(conformance_dir, device="cpu")
    assert rec._model is not None
    ours = rec._model.state_dict()
    assert set(ours) == {k for k in state if not k.startswith("loss_calculator.")}
    for k, v in ours.items():
        assert torch.equal(v, state[k]), k


def test_missing_key_is_named(tmp_path, conformance_dir):
    ckpt = _tiny_state(conformance_dir)
    del ckpt["model"]["transformer_layers.1.attn.fc.weight"]
    message = _load_error(_weights_dir(tmp_path, conformance_dir, ckpt))
    assert CKPT_NAME in message and "missing keys 1 (transformer_layers.1.attn.fc.weight)" in message


def test_unexpected_key_is_named(tmp_path, conformance_dir):
    ckpt = _tiny_state(conformance_dir)
    ckpt["model"]["transformer_layers.2.norm1.weight"] = torch.ones(64)
    message = _load_error(_weights_dir(tmp_path, conformance_dir, ckpt))
    assert "unexpected keys 1 (transformer_layers.2.norm1.weight)" in message


def test_many_bad_keys_are_counted_not_all_listed(tmp_path, conformance_dir):
    ckpt = _tiny_state(conformance_dir)
    for i in range(9):
        ckpt["model"][f"extra.{i}"] = torch.zeros(1)
    message = _load_error(_weights_dir(tmp_path, conformance_dir, ckpt))
    assert "unexpected keys 9 (extra.0, extra.1, extra.2, extra.3, extra.4 and 4 more)" in message


def test_wrong_shape_is_named(tmp_path, conformance_dir):
    ckpt = _tiny_state(conformance_dir)
    ckpt["model"]["pixel_gaussian_decoder.1.weight"] = torch.zeros(895, 64)
    message = _load_error(_weights_dir(tmp_path, conformance_dir, ckpt))
    assert "wrong shapes 1 (pixel_gaussian_decoder.1.weight (895, 64) != (896, 64))" in message


def test_yaml_that_does_not_match_the_checkpoint_is_a_shape_error(tmp_path, conformance_dir):
    weights = _weights_dir(tmp_path, conformance_dir)
    (weights / "gslrm" / "gslrm.yaml").unlink()  # released defaults: d=1024, 24 layers
    message = _load_error(weights)
    assert "missing keys" in message and "wrong shapes" in message


def test_yaml_with_a_non_integer_value_is_refused(tmp_path, conformance_dir):
    weights = _weights_dir(tmp_path, conformance_dir)
    yaml_path = weights / "gslrm" / "gslrm.yaml"
    yaml_path.write_text(yaml_path.read_text().replace("d_head: 16", "d_head: '16'"))
    message = _load_error(weights)
    assert "gslrm.yaml" in message and "model.transformer.d_head must be an integer" in message


class _CodeOnLoad:
    """Pickles as a call to ``open(marker, "w")``: unpickling it creates the marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_pickled_object_checkpoint_is_refused_without_running_it(tmp_path, conformance_dir):
    marker = tmp_path / "payload_ran"
    ckpt = _tiny_state(conformance_dir)
    ckpt["extra"] = _CodeOnLoad(marker)
    weights = _weights_dir(tmp_path, conformance_dir, ckpt)
    message = _load_error(weights)
    assert CKPT_NAME in message and "pickled objects" in message
    assert not marker.exists()
    # The payload is real: an unrestricted load would have run it.
    torch.load(weights / "gslrm" / CKPT_NAME, weights_only=False)
    assert marker.exists()


def test_truncated_checkpoint_is_refused(tmp_path, conformance_dir):
    weights = _weights_dir(tmp_path, conformance_dir)
    path = weights / "gslrm" / CKPT_NAME
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    message = _load_error(weights)
    assert CKPT_NAME in message and "corrupt or truncated" in message


def test_garbage_checkpoint_is_refused(tmp_path, conformance_dir):
    weights = _weights_dir(tmp_path, conformance_dir)
    (weights / "gslrm" / CKPT_NAME).write_bytes(b"not a checkpoint at all" * 10)
    assert "corrupt or truncated" in _load_error(weights)


def test_checkpoint_without_model_entry_is_refused(tmp_path, conformance_dir):
    weights = _weights_dir(tmp_path, conformance_dir, {"weights": _tiny_state(conformance_dir)["model"]})
    assert "no 'model' state dict" in _load_error(weights)


def test_no_checkpoint_in_folder(tmp_path):
    (tmp_path / "gslrm").mkdir()
    assert "no ckpt_<step>.pt" in _load_error(tmp_path)
    assert "GS-LRM weights folder not found" in _load_error(tmp_path / "nowhere")


def test_highest_step_checkpoint_is_used(tmp_path, conformance_dir):
    weights = _weights_dir(tmp_path, conformance_dir)
    folder = weights / "gslrm"
    shutil.move(folder / CKPT_NAME, folder / "ckpt_0000000000000021.pt")
    (folder / "ckpt_0000000000000007.pt").write_bytes(b"broken")  # older step: never read
    rec = GSLRMReconstructor.from_weights(weights, device="cpu")
    assert rec.source is not None and rec.source.name == "ckpt_0000000000000021.pt"
    (folder / "ckpt_0000000000000100.pt").write_bytes(b"broken")  # newer step: read, refused
    assert find_checkpoint(weights)[0].name == "ckpt_0000000000000100.pt"
    assert "ckpt_0000000000000100.pt: corrupt or truncated" in _load_error(weights)


@pytest.fixture(scope="module")
def tiny(conformance_dir) -> GSLRMReconstructor:
    return GSLRMReconstructor.from_weights(conformance_dir, device="cpu")


def test_wrong_number_of_views_is_refused(tiny):
    with pytest.raises(InputError) as info:
        tiny.reconstruct(np.zeros((5, 64, 64, 3), np.uint8))
    assert str(info.value) == "GS-LRM needs 6 views (one per camera), got 5"


def test_view_size_not_divisible_by_patch_is_refused(tiny):
    with pytest.raises(InputError) as info:
        tiny.reconstruct(np.zeros((6, 60, 64, 3), np.uint8))
    assert str(info.value) == "view size 64x60 is not divisible by the patch size 8"


def test_other_view_sizes_divisible_by_8_work(tiny):
    g = tiny.reconstruct(np.full((6, 32, 48, 3), 200, np.uint8), apply_filter=False)
    assert len(g) == 2 + 6 * 32 * 48


def test_unload_drops_the_weights(conformance_dir):
    rec = GSLRMReconstructor.from_weights(conformance_dir, device="cpu")
    rec.unload()
    assert rec._model is None
    with pytest.raises(RuntimeError, match="unloaded"):
        rec.reconstruct(np.zeros((6, 64, 64, 3), np.uint8))
