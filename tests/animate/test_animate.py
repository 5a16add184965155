"""Animating heads with drivers whose motion is known (tests/animate/drivers.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from animate_drivers import open_mouth

from engine.animate.deform import Pose, deform
from engine.animate.driver import DriverInfo, track
from engine.animate.landmarks import STABLE, face_height, lip_gap
from engine.animate.motion import Retargeter
from engine.animate.pipeline import DriverTrack, motions, track_frames
from engine.animate.similarity import rotation_matrix, yaw_pitch_roll_deg
from engine.render import render, to_uint8


def _front(gaussians, size: int = 256) -> np.ndarray:
    from engine.cameras import facelift_cameras

    cams = facelift_cameras(size)
    return to_uint8(render(gaussians, cams.c2w[0], cams.fxfycxcy[0], size, size, backend="torch-cpu").rgb)


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(255.0**2 / mse)


def _video(frames_landmarks) -> DriverTrack:
    return DriverTrack(
        DriverInfo(Path("driver.mp4"), 25.0, len(frames_landmarks), (512, 512), False), frames_landmarks
    )


@pytest.mark.parametrize("which", ["instant_head", "facelift_head"])
def test_neutral_driver_leaves_the_head_unchanged(which, request):
    head = request.getfixturevalue(which)
    lm = track(head.image)
    assert lm is not None
    moves = motions(head.rig, _video([lm, lm, None, lm]))  # a frame without a face holds
    static = _front(head.gaussians)
    for m in moves:
        assert _psnr(_front(deform(head.rig, m.offsets, m.pose)), static) >= 40.0


@pytest.mark.parametrize("yaw", [-30.0, -20.0, -10.0, 10.0, 20.0, 30.0])
def test_recovered_yaw_matches_a_turned_face_mesh(instant_head, yaw):
    """The photo's face mesh turned by a known yaw about its middle (in the driver's camera
    frame, x right, y down, z away), with 0.3 px noise: the head turns by that yaw +-3 deg."""
    neutral = track(instant_head.image)
    centre = neutral[list(STABLE)].mean(axis=0)
    # a yaw seen on screen is a turn about the image's vertical axis (y)
    turn = rotation_matrix(np.array([0.0, np.radians(yaw), 0.0]))
    turned = (neutral - centre) @ turn.T + centre
    turned += np.random.default_rng(0).normal(0.0, 0.3, turned.shape)
    m = Retargeter(instant_head.rig, neutral, 25.0, smooth=False)(turned)
    got = yaw_pitch_roll_deg(m.pose.rotation)
    # a turn about the camera's down axis is minus a turn about the world's up axis
    assert abs(-got[0] - yaw) <= 3.0, got
    assert abs(got[1]) <= 3.0 and abs(got[2]) <= 3.0, got


@pytest.mark.parametrize("yaw", [-15.0, 15.0])
def test_a_rendered_turned_head_drives_the_head_round(instant_head, yaw):
    """Image-level: the head rendered after a known yaw, tracked by mediapipe, turns the head by
    that yaw within 6 deg. The error is mediapipe's depth estimate on the rendered head (the
    landmark-level test above holds 3 deg): 2.6-4.3 deg on the first instant head, 5.3 deg at
    +15 deg on the sharper one, whose colours alone moved it."""
    rig = instant_head.rig
    neutral_img = _front(instant_head.gaussians, 512)
    turned_img = _front(
        deform(rig, np.zeros_like(rig.landmarks), Pose(rotation_matrix([0, 0, np.radians(yaw)]))), 512
    )
    m = Retargeter(rig, track(neutral_img), 25.0, smooth=False)(track(turned_img))
    assert abs(yaw_pitch_roll_deg(m.pose.rotation)[0] - yaw) <= 6.0


def test_open_mouth_driver_opens_the_rendered_mouth(instant_head):
    """The driver's lips part by a fraction of its face height; the rendered head's lips part
    by the same fraction +-25 %, and the gap is dark (the mouth interior, not the white
    background through a hole)."""
    img = instant_head.image
    lm = track(img)
    opened = open_mouth(img, lm, 20.0)
    lm_open = track(opened)
    driver_growth = (lip_gap(lm_open) - lip_gap(lm)) / face_height(lm)
    assert driver_growth > 0.04
    # the driver clip through the product's tracking (its face mesh, the lower face followed by
    # optical flow from the first frame); the smoothing settles over the repeated open frames
    info = DriverInfo(Path("driver.mp4"), 25.0, 5, (512, 512), False)
    moves = motions(instant_head.rig, track_frames(info, [img, opened, opened, opened, opened]))
    static = _front(instant_head.gaussians, 512)
    animated = _front(deform(instant_head.rig, moves[-1].offsets, moves[-1].pose), 512)
    s, a = track(static), track(animated)
    head_growth = (lip_gap(a) - lip_gap(s)) / face_height(s)
    assert abs(head_growth / driver_growth - 1.0) <= 0.25, (head_growth, driver_growth)
    # between the parted inner lips the render is dark
    mid = 0.5 * (a[13, :2] + a[14, :2])
    patch = animated[int(mid[1]) - 2 : int(mid[1]) + 3, int(mid[0]) - 2 : int(mid[0]) + 3].astype(float)
    assert patch.mean() < 90.0, patch.mean()
