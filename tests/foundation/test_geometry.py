"""engine.geometry: quaternion <-> matrix maths, the FaceLift rig's constants against the
reference cameras json, and the turntable path."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engine import geometry as geo
from engine.api import InputError
from engine.cameras import SLOT_ORDER, facelift_cameras, turntable_cameras

CAMERAS_JSON = Path(__file__).resolve().parents[2] / "resources" / "cameras" / "opencv_cameras.json"


def _random_quats(n: int, seed: int = 0) -> np.ndarray:
    q = np.random.default_rng(seed).normal(size=(n, 4))
    return q / np.linalg.norm(q, axis=1, keepdims=True)


def _same_rotation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """|<a, b>| per quaternion pair: 1 when they are the same rotation (q and -q are)."""
    return np.abs(np.sum(a * b, axis=-1))


def test_quaternion_matrix_round_trip() -> None:
    q = _random_quats(2000)
    r = geo.quat_to_matrix(q)
    assert r.shape == (2000, 3, 3) and r.dtype == np.float64
    np.testing.assert_allclose(r @ np.swapaxes(r, 1, 2), np.broadcast_to(np.eye(3), r.shape), atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(r), 1.0, atol=1e-12)
    back = geo.matrix_to_quat(r)
    np.testing.assert_allclose(np.linalg.norm(back, axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(_same_rotation(back, q), 1.0, atol=1e-12)
    np.testing.assert_allclose(geo.quat_to_matrix(back), r, atol=1e-12)


def test_matrix_to_quat_near_half_turns_and_identity() -> None:
    """Each Shepperd branch (w, x, y or z largest) and the 180-degree turns where w = 0."""
    half_turns = [np.diag(d) for d in ([1.0, -1.0, -1.0], [-1.0, 1.0, -1.0], [-1.0, -1.0, 1.0])]
    q = geo.matrix_to_quat(np.stack([np.eye(3), *half_turns]))
    np.testing.assert_allclose(_same_rotation(q, np.eye(4)), 1.0, atol=1e-12)
    # a turn of 179.9 degrees about a skew axis keeps full precision
    axis = np.array([1.0, 2.0, -0.5]) / np.linalg.norm([1.0, 2.0, -0.5])
    angle = np.deg2rad(179.9)
    want = np.concatenate([[np.cos(angle / 2)], np.sin(angle / 2) * axis])
    got = geo.matrix_to_quat(geo.quat_to_matrix(want))
    assert got.shape == (4,)
    np.testing.assert_allclose(_same_rotation(got, want), 1.0, atol=1e-12)


def test_unnormalised_quaternions_and_float32() -> None:
    q = _random_quats(50, seed=1)
    np.testing.assert_allclose(geo.quat_to_matrix(3.5 * q), geo.quat_to_matrix(q), atol=1e-12)
    r32 = geo.quat_to_matrix(q.astype(np.float32), np.float32)
    assert r32.dtype == np.float32
    np.testing.assert_allclose(r32, geo.quat_to_matrix(q), atol=1e-6)


def test_quat_multiply_composes_rotations() -> None:
    a, b = _random_quats(100, seed=2), _random_quats(100, seed=3)
    np.testing.assert_allclose(
        geo.quat_to_matrix(geo.quat_multiply(a, b)), geo.quat_to_matrix(a) @ geo.quat_to_matrix(b), atol=1e-12
    )


def test_covariances_are_r_s2_rt() -> None:
    q = _random_quats(20, seed=4)
    s = np.random.default_rng(5).uniform(0.01, 0.2, (20, 3))
    r = geo.quat_to_matrix(q)
    want = np.stack([ri @ np.diag(si**2) @ ri.T for ri, si in zip(r, s)])
    np.testing.assert_allclose(geo.covariances(q, s), want, atol=1e-15)


def test_the_rig_constants_reproduce_the_reference_cameras_json() -> None:
    """Radius, field of view, the six views' azimuths and the 512 px intrinsics are the json's."""
    frames = json.loads(CAMERAS_JSON.read_text())["frames"]
    assert len(frames) == len(geo.VIEW_NAMES) == len(geo.VIEW_AZIMUTHS) == 6
    for slot, name in enumerate(geo.VIEW_NAMES):
        frame = frames[SLOT_ORDER[slot]]
        assert (frame["w"], frame["h"]) == (geo.REFERENCE_SIZE, geo.REFERENCE_SIZE)
        np.testing.assert_allclose(
            [frame["fx"], frame["fy"], frame["cx"], frame["cy"]],
            geo.square_intrinsics(geo.REFERENCE_SIZE),
            rtol=1e-7,
        )
        c2w = np.linalg.inv(np.array(frame["w2c"]))
        assert np.linalg.norm(c2w[:3, 3]) == pytest.approx(geo.ORBIT_RADIUS, abs=1e-6), name
        np.testing.assert_allclose(geo.orbit_c2w(geo.VIEW_AZIMUTHS[slot]), c2w, atol=1e-6, err_msg=name)
    assert geo.focal_length(512) == pytest.approx(548.99377, abs=1e-4)
    # the face looks toward -Y: the front camera sits on -Y, the back one on +Y
    np.testing.assert_allclose(
        geo.orbit_position(geo.FRONT_AZIMUTH), [0.0, -geo.ORBIT_RADIUS, 0.0], atol=1e-12
    )
    assert geo.VIEW_NAMES[0] == "front" and geo.VIEW_AZIMUTHS[geo.VIEW_NAMES.index("back")] == 90.0


def test_turntable_path_starts_at_the_front_camera_and_turns_once() -> None:
    az = geo.turntable_azimuths(12)
    assert az[0] == geo.FRONT_AZIMUTH
    np.testing.assert_allclose(np.diff(az), 30.0)  # evenly spaced, one whole turn over 12 frames
    front = facelift_cameras(64)
    cams = turntable_cameras(12, size=64)
    np.testing.assert_allclose(cams.c2w[0], front.c2w[0], atol=1e-6)
    np.testing.assert_allclose(cams.fxfycxcy[0], front.fxfycxcy[0], rtol=1e-6)
    # it turns from the front toward front_left (+X), and frame 3 (90 degrees on) is the left view
    left = geo.VIEW_NAMES.index("left")
    np.testing.assert_allclose(cams.c2w[3], front.c2w[left], atol=1e-6)
    assert cams.centers[1][0] > 0
    with pytest.raises(InputError, match="at least one frame"):
        geo.turntable_azimuths(0)


def test_orbit_elevation_and_bad_poses() -> None:
    c2w = geo.orbit_c2w(geo.FRONT_AZIMUTH, 30.0)
    np.testing.assert_allclose(c2w[:3, 3], [0.0, -2.7 * np.cos(np.pi / 6), 2.7 * 0.5], atol=1e-12)
    np.testing.assert_allclose(c2w[:3, :3] @ [0, 0, 1], -c2w[:3, 3] / 2.7, atol=1e-12)  # looks at the origin
    with pytest.raises(InputError, match="elevation"):
        geo.orbit_c2w(0.0, 90.0)
    with pytest.raises(InputError, match="up vector"):
        geo.look_at_c2w([0.0, 0.0, 3.0], [0.0, 0.0, 0.0], [0.0, 0.0, 1.0])
