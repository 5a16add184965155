"""GS-LRM against the reference: the tiny conformance model reproduces expected.npz."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.api import Cancelled, CancelToken
from engine.cameras import CameraSet
from engine.gaussians import Gaussians
from engine.gslrm.reconstructor import GSLRMReconstructor
from engine.io.ply import save_ply

TOL = {"atol": 1e-5, "rtol": 1e-5}


@pytest.fixture(scope="module")
def reconstructor(conformance_dir: Path) -> GSLRMReconstructor:
    return GSLRMReconstructor.from_weights(conformance_dir, device="cpu")


@pytest.fixture(scope="module")
def fixture_cameras(gslrm_inputs: dict[str, np.ndarray]) -> CameraSet:
    return CameraSet(gslrm_inputs["c2w"][0], gslrm_inputs["fxfycxcy"][0], 64, 64)


@pytest.fixture(scope="module")
def raw(reconstructor, gslrm_inputs, fixture_cameras) -> Gaussians:
    return reconstructor.reconstruct(gslrm_inputs["image_u8"][0], fixture_cameras, apply_filter=False)


def test_loads_tiny_config_from_yaml(reconstructor):
    cfg = reconstructor.config
    assert (cfg.d, cfg.d_head, cfg.n_layer, cfg.image_size) == (64, 16, 2, 64)
    assert reconstructor.image_size == 64
    assert reconstructor.source is not None and reconstructor.source.name == "ckpt_0000000000000000.pt"


def test_raw_gaussians_match_reference_in_order(raw, gslrm_expected):
    assert len(raw) == 2 + 6 * 64 * 64
    assert raw.sh_degree == 0 and raw.sh_rest.shape == (len(raw), 0, 3)
    np.testing.assert_allclose(raw.xyz, gslrm_expected["xyz"], **TOL)
    np.testing.assert_allclose(raw.sh_dc, gslrm_expected["features_dc"], **TOL)
    np.testing.assert_allclose(raw.log_scales, gslrm_expected["scaling_pre"], **TOL)
    np.testing.assert_allclose(raw.quats, gslrm_expected["rotation_raw"], **TOL)
    np.testing.assert_allclose(raw.opacity_logits, gslrm_expected["opacity_pre"][:, 0], **TOL)


def test_filter_stages_match_reference(raw, gslrm_expected):
    masks = raw.filter_masks()
    near = gslrm_expected["near_threshold"]
    for stage in ("opacity", "scaling", "floater", "crop"):
        expected = gslrm_expected[f"keep_after_{stage}"]
        assert not ((masks[stage] != expected) & ~near).any(), stage
    assert abs(int(masks["crop"].sum()) - 5083) <= int(near.sum())


def test_default_cameras_are_the_fixture_cameras(reconstructor, raw, gslrm_inputs):
    """Without cameras the six FaceLift cameras, scaled to the view size, are used."""
    default = reconstructor.reconstruct(gslrm_inputs["image_u8"][0], None, apply_filter=False)
    np.testing.assert_allclose(default.xyz, raw.xyz, atol=1e-5)


def test_filtered_output_is_written_like_the_reference(
    tmp_path, reconstructor, gslrm_inputs, fixture_cameras, assert_matches_expected_ply
):
    filtered = reconstructor.reconstruct(gslrm_inputs["image_u8"][0], fixture_cameras)
    out = tmp_path / "filtered.ply"
    save_ply(filtered, out)
    assert_matches_expected_ply(out)


def test_cancel_between_layers_stops_the_run(reconstructor, gslrm_inputs):
    token = CancelToken()
    layers_seen = []

    def progress(event):
        layers_seen.append(event.step)
        if event.step == 1:
            token.cancel()

    with pytest.raises(Cancelled):
        reconstructor.reconstruct(gslrm_inputs["image_u8"][0], cancel=token, on_progress=progress)
    assert layers_seen == [0, 1]


@pytest.mark.parametrize(("precision", "max_err"), [("fp16", 0.02), ("bf16", 0.15)])
def test_autocast_path_runs_and_stays_close(
    precision, max_err, conformance_dir, gslrm_inputs, fixture_cameras, raw
):
    """The reduced-precision (CUDA) code path, exercised on the CPU through CPU autocast."""
    rec = GSLRMReconstructor.from_weights(conformance_dir, device="cpu", precision=precision)
    low = rec.reconstruct(gslrm_inputs["image_u8"][0], fixture_cameras, apply_filter=False)
    assert len(low) == len(raw)
    for field in ("xyz", "sh_dc", "log_scales", "quats", "opacity_logits"):
        a, b = getattr(low, field), getattr(raw, field)
        assert not np.array_equal(a, b), f"{field}: autocast did not change anything"
        err = np.abs(a - b)
        assert err.max() < max_err and err.mean() < max_err / 5, (field, err.max(), err.mean())
