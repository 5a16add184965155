"""Colours of the surface the photo does not show: the mirrored side, and clothes without streaks."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from scipy import ndimage

from engine.instant.colors import unseen_colours
from engine.instant.geometry import front_camera
from engine.instant.mirror import symmetry_plane


def test_clothes_round_the_back_have_no_vertical_streaks() -> None:
    # A suit with white lapel stripes every 6 px below the chin (row 300).
    rgb = np.full((512, 512, 3), 0.1)
    rgb[300:, ::6] = 0.95
    mask = np.zeros((512, 512), bool)
    mask[100:, 150:360] = True
    face = np.zeros_like(mask)
    face[150:290, 200:310] = True
    unseen = unseen_colours(rgb, mask, face, chin_row=300.0, head_width_px=160.0)
    arc = np.linspace(0.0, 1000.0, 400)
    row = np.full_like(arc, 420.0)
    colours = unseen(row, arc)
    assert np.ptp(colours, axis=0).max() < 1e-6  # one colour round the body at a height
    assert colours[0].max() < 0.3  # the suit's colour, not a stripe's


def test_symmetry_plane_of_a_turned_face_is_turned_with_it() -> None:
    cam = front_camera(512)
    rng = np.random.default_rng(0)
    # A symmetric point set (x mirrored about 256 px), then turned 20 degrees about the vertical.
    half = rng.uniform([-80, -100, -40], [-10, 100, 40], size=(239, 3))
    pts = np.concatenate([half, half * [-1, 1, 1]])
    pairs = np.arange(239)
    turn = np.radians(20.0)
    rot = np.array([[np.cos(turn), 0, np.sin(turn)], [0, 1, 0], [-np.sin(turn), 0, np.cos(turn)]])
    turned = pts @ rot.T
    lm = np.zeros((478, 3))
    lm[:, 0] = 256 + turned[:, 0]
    lm[:, 1] = 256 + turned[:, 1]
    lm[:, 2] = turned[:, 2]
    plane = symmetry_plane(lm, cam, None, tuple((int(i), int(i) + 239) for i in pairs[:20]))
    x_axis = cam.c2w[:3, 0]
    angle = np.degrees(np.arccos(abs(plane.normal @ x_axis)))
    assert 12.0 < angle < 28.0  # the plane turned with the face (perspective bends it a little)
    # Reflection maps each point of a pair onto the other.
    world = cam.to_world(
        np.stack([(lm[:, 0] - cam.cx) / cam.fx, (lm[:, 1] - cam.cy) / cam.fy, np.ones(478)], axis=1)
        * (cam.mid_depth + lm[:, 2:3] * cam.pixel_world)
    )
    image, _ = plane.reflect(world[:20], np.zeros((20, 3)))
    assert np.abs(image - world[239:259]).max() < 0.05 * np.ptp(world[:, 0])


def _fringed_head() -> SimpleNamespace:
    """A 512x512 'photo': a dark-haired head and shoulders on white whose outer 3 px are light
    (the background mixed into the strands) while the matte there is still solid."""
    rng = np.random.default_rng(1)
    v, u = np.mgrid[0:512, 0:512] + 0.5
    head = ((u - 256) / 110) ** 2 + ((v - 230) / 130) ** 2 < 1.0
    body = (v > 330) & (np.abs(u - 256) < 200 - 0.3 * (512 - v))
    solid = head | body
    dist = ndimage.distance_transform_edt(solid)
    image = np.ones((512, 512, 3))
    image[solid] = np.array([0.3, 0.2, 0.12]) + rng.normal(0.0, 0.02, (int(solid.sum()), 3))
    image[solid & (dist <= 3)] = [0.82, 0.8, 0.78]
    alpha = np.clip(ndimage.gaussian_filter(solid.astype(np.float64), 1.0) * 1.2, 0.0, 1.0)
    alpha[solid & (dist > 1)] = 1.0
    return SimpleNamespace(
        image=np.round(np.clip(image, 0, 1) * 255).astype(np.uint8), alpha=alpha, landmarks=None
    )


@pytest.mark.slow
def test_back_of_the_head_has_no_light_line_from_the_photos_fringe() -> None:
    # The hidden hair is laid round the head from the photo's rows; each row's strip ended on
    # the matte's light fringe and every row wraps at the same azimuth, so a light vertical line
    # ran down the middle of the back view. The back must look like the hair: no column of the
    # head, seen from behind, much lighter than the hair's typical colour.
    from engine.cameras import facelift_cameras
    from engine.instant import InstantReconstructor
    from engine.render import render

    head = InstantReconstructor().reconstruct(_fringed_head()).gaussians
    cams = facelift_cameras(256)
    back = render(head, cams.c2w[3], cams.fxfycxcy[3], 256, 256)
    lum = np.asarray(back.rgb, np.float64) @ np.array([0.299, 0.587, 0.114])
    inside = ndimage.binary_erosion(np.asarray(back.alpha) > 0.5, iterations=3)
    cols = np.nonzero(inside.sum(axis=0) >= 20)[0]
    column_median = np.array([np.median(lum[inside[:, c], c]) for c in cols])
    hair = float(np.median(lum[inside]))
    assert hair < 0.35  # the hair's colour, not the fringe's
    assert column_median.max() < hair + 0.15, (column_median.max(), hair)
