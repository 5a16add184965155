"""engine.cameras: the six FaceLift cameras and the turntable orbit (spec §2, §6.5)."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from engine.api import InputError
from engine.cameras import (
    DEFAULT_CAMERAS_JSON,
    SLOT_ORDER,
    facelift_cameras,
    load_cameras_json,
    orbit_camera,
    turntable_cameras,
    view_slot,
)
from engine.geometry import VIEW_NAMES, look_at_c2w

R = 2.7
S = 1.909188
# spec §2: slot -> (camera centre, forward axis)
SPEC_TABLE = [
    ((0, -R, 0), (0, 1, 0)),
    ((-S, -S, 0), (0.707107, 0.707107, 0)),
    ((-R, 0, 0), (1, 0, 0)),
    ((0, R, 0), (0, -1, 0)),
    ((R, 0, 0), (-1, 0, 0)),
    ((S, -S, 0), (-0.707107, 0.707107, 0)),
]


# SHA-256 of FaceLift's utils_folder/opencv_cameras.json (weijielyu/FaceLift at 0a9420c)
REFERENCE_CAMERAS_SHA256 = "e90c9bbd0301d723d9b4a643f9a129108ea579e1811d00b5d2d8af8cc5dbbde5"


def test_resource_json_is_the_reference_file():
    assert hashlib.sha256(DEFAULT_CAMERAS_JSON.read_bytes()).hexdigest() == REFERENCE_CAMERAS_SHA256


def test_six_cameras_in_slot_order_match_the_spec_table():
    cams = facelift_cameras()
    assert len(cams) == 6 and SLOT_ORDER == (2, 1, 0, 5, 4, 3)
    assert cams.c2w.dtype == cams.fxfycxcy.dtype == np.float32
    assert cams.c2w.shape == (6, 4, 4) and cams.fxfycxcy.shape == (6, 4)
    for slot, (centre, forward) in enumerate(SPEC_TABLE):
        np.testing.assert_allclose(cams.centers[slot], centre, atol=2e-6, err_msg=VIEW_NAMES[slot])
        np.testing.assert_allclose(cams.c2w[slot, :3, 2], forward, atol=2e-6, err_msg=VIEW_NAMES[slot])
        np.testing.assert_allclose(cams.c2w[slot, :3, 1], (0, 0, -1), atol=2e-6)  # image down = -Z
    np.testing.assert_array_equal(cams.c2w[:, 3], np.tile([0, 0, 0, 1], (6, 1)))
    np.testing.assert_array_equal(
        cams.fxfycxcy, np.tile([548.9937744140625, 548.9937744140625, 256, 256], (6, 1))
    )


def test_c2w_is_the_float64_inverse_cast_to_float32():
    frames = json.loads(DEFAULT_CAMERAS_JSON.read_text())["frames"]
    cams = facelift_cameras()
    for slot, idx in enumerate(SLOT_ORDER):
        want = np.linalg.inv(np.array(frames[idx]["w2c"], np.float64)).astype(np.float32)
        np.testing.assert_array_equal(cams.c2w[slot], want)
        # inverting in float32 would not give the same bits everywhere; the ~1e-7 asymmetries stay
    naive = np.linalg.inv(np.array([frames[i]["w2c"] for i in SLOT_ORDER], np.float32))
    assert not np.array_equal(naive, cams.c2w)


def test_matches_the_conformance_inputs(conformance_dir):
    ref = np.load(conformance_dir / "gslrm" / "inputs.npz")
    cams = facelift_cameras(64)
    np.testing.assert_array_equal(cams.fxfycxcy, ref["fxfycxcy"][0])  # fx, cx by W/512; fy, cy by H/512
    # equal to the last bit except one 1e-16-sized entry of the back camera (a LAPACK rounding)
    np.testing.assert_allclose(cams.c2w, ref["c2w"][0], rtol=0, atol=1e-20)
    assert (cams.c2w != ref["c2w"][0]).sum() <= 1


def test_intrinsics_scale_to_any_size():
    cams = facelift_cameras(320, 240)
    assert (cams.width, cams.height) == (320, 240)
    np.testing.assert_allclose(
        cams.fxfycxcy[0], [548.99377 * 320 / 512, 548.99377 * 240 / 512, 160, 120], rtol=1e-6
    )
    again = cams.scaled(512, 512)
    np.testing.assert_allclose(again.fxfycxcy, facelift_cameras().fxfycxcy, rtol=1e-6)
    np.testing.assert_array_equal(again.c2w, cams.c2w)


def test_turntable_frame0_is_the_front_camera():
    tt = turntable_cameras()
    front = facelift_cameras()
    assert np.abs(tt.c2w[0] - front.c2w[0]).max() < 5e-8
    np.testing.assert_allclose(tt.fxfycxcy[0], front.fxfycxcy[0], rtol=1e-7)


@pytest.mark.parametrize("frames", [1, 150, 180])
def test_turntable_frames_and_azimuth_steps(frames):
    tt = turntable_cameras(frames)
    assert len(tt) == frames and tt.c2w.shape == (frames, 4, 4) and tt.c2w.dtype == np.float32
    centres = tt.centers.astype(np.float64)
    np.testing.assert_allclose(np.linalg.norm(centres, axis=1), R, rtol=1e-6)
    np.testing.assert_allclose(centres[:, 2], 0, atol=1e-6)  # elevation 0
    az = np.rad2deg(np.unwrap(np.arctan2(centres[:, 1], centres[:, 0])))
    np.testing.assert_allclose(az, 270 + np.arange(frames) * 360 / frames - 360, atol=1e-4)
    if frames > 1:
        assert centres[1, 0] > 0  # the orbit moves toward +x after the front frame
    # every camera looks at the origin with image-down = -Z
    fwd = tt.c2w[:, :3, 2].astype(np.float64)
    np.testing.assert_allclose(fwd, -centres / R, atol=1e-6)
    np.testing.assert_allclose(tt.c2w[:, :3, 1], np.tile([0, 0, -1], (frames, 1)), atol=1e-6)


def test_turntable_parameters():
    tt = turntable_cameras(8, elevation_deg=20.0, size=256)
    assert (tt.width, tt.height) == (256, 256)
    np.testing.assert_allclose(
        tt.fxfycxcy[0],
        [256 / (2 * np.tan(np.deg2rad(25))), 256 / (2 * np.tan(np.deg2rad(25))), 128, 128],
        rtol=1e-6,
    )
    np.testing.assert_allclose(tt.centers[:, 2], R * np.sin(np.deg2rad(20)), rtol=1e-6)
    with pytest.raises(InputError, match="at least one frame"):
        turntable_cameras(0)


def test_look_at_and_orbit_are_orthonormal():
    c2w = look_at_c2w(np.array([1.0, 2.0, 3.0]), np.zeros(3), np.array([0.0, 0.0, 1.0]))
    rot = c2w[:3, :3]
    np.testing.assert_allclose(rot.T @ rot, np.eye(3), atol=1e-12)
    assert np.linalg.det(rot) == pytest.approx(1.0)
    cam = orbit_camera(0.0)
    np.testing.assert_allclose(cam.centers[0], [R, 0, 0], atol=1e-6)


def test_view_slots():
    assert [view_slot(n) for n in VIEW_NAMES] == list(range(6))
    with pytest.raises(InputError, match="unknown view"):
        view_slot("top")


def test_bad_cameras_json(tmp_path):
    bad = tmp_path / "cams.json"
    bad.write_text("{not json")
    with pytest.raises(InputError) as info:
        load_cameras_json(bad)
    assert str(bad) in str(info.value) and "\n" not in str(info.value)
    bad.write_text(
        json.dumps({"frames": [{"w": 1, "h": 1, "fx": 1, "fy": 1, "cx": 0, "cy": 0, "w2c": [[0] * 4] * 4}]})
    )
    with pytest.raises(InputError, match="not invertible"):
        load_cameras_json(bad, order=None)
    with pytest.raises(InputError):
        load_cameras_json(bad)  # the slot order needs 6 frames
    with pytest.raises(InputError, match="not a usable"):
        load_cameras_json(tmp_path / "missing.json")


@pytest.mark.parametrize("elevation", [90.0, -90.0, 120.0, float("nan")])
def test_turntable_refuses_a_degenerate_elevation(elevation):
    with pytest.raises(InputError, match="elevation"):
        turntable_cameras(4, elevation_deg=elevation)


def test_look_at_refuses_looking_along_up():
    with pytest.raises(InputError, match="up vector"):
        look_at_c2w(np.array([0.0, 0.0, 3.0]), np.zeros(3), np.array([0.0, 0.0, 1.0]))
