"""A video driver's lower face follows the pixels (engine/animate/flow.py): known motions of the
astronaut's photo, read back at the landmarks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from animate_drivers import CORNERS, UPPER_INNER, open_mouth

from engine.animate.driver import track
from engine.animate.flow import follow_lower_face, lower_face, neutral_frame
from engine.animate.landmarks import CHIN, FOREHEAD, LOWER_LIP_INNER, face_height
from engine.io.images import load_photo, resize_square

PORTRAIT = Path(__file__).resolve().parents[1] / "fixtures" / "portraits" / "astronaut.jpg"
# the lower lip's inner and outer middles, the chin's front: near the mouth's middle, where the
# driver's opening is its full size
MIDDLE = (LOWER_LIP_INNER, 17, 200)


@pytest.fixture(scope="module")
def photo() -> tuple[np.ndarray, np.ndarray]:
    img = resize_square(load_photo(PORTRAIT), 512)
    lm = track(img)
    assert lm is not None
    return img, lm


def _true_drop(lm: np.ndarray, opening_px: float) -> np.ndarray:
    """(478,) how far open_mouth moves each landmark down (its cosine bump below the lip)."""
    xl, xr = sorted(float(lm[i, 0]) for i in CORNERS)
    t = np.clip(np.abs(lm[:, 0] - 0.5 * (xl + xr)) / (0.8 * (xr - xl)), 0.0, 1.0)
    below = lm[:, 1] > lm[UPPER_INNER, 1]
    return np.where(below, opening_px * 0.5 * (1.0 + np.cos(np.pi * t)), 0.0)


def test_lower_face_is_the_lower_lip_and_jaw(photo):
    _, lm = photo
    low = lower_face(lm)
    assert low[LOWER_LIP_INNER] and low[CHIN] and low[17]
    assert not low[UPPER_INNER] and not low[FOREHEAD] and not low[0] and not low[1]  # 0: upper lip, 1: nose


@pytest.mark.parametrize("fraction", [0.05, 0.1])
def test_an_opening_mouth_is_read_at_its_size(photo, fraction):
    """A mouth opened by 5 or 10 % of the face height (speech, a wide opening): the face mesh
    alone reads the lower lip and chin several px short of the wide one; with the flow they are
    within 1.5 px of it, and the upper face and every depth are mediapipe's."""
    img, lm = photo
    opening = fraction * face_height(lm)
    opened = open_mouth(img, lm, opening)
    raw = track(opened)
    assert raw is not None
    got = follow_lower_face(neutral_frame(img, lm), opened, raw)
    truth = _true_drop(lm, opening)[list(MIDDLE)]
    followed = got[list(MIDDLE), 1] - lm[list(MIDDLE), 1]
    assert np.all(np.abs(followed - truth) <= 1.5), (followed, truth)
    if fraction >= 0.1:  # what the flow is for
        meshed = raw[list(MIDDLE), 1] - lm[list(MIDDLE), 1]
        assert np.abs(meshed - truth).max() > 3.0, (meshed, truth)
    upper = ~lower_face(lm)
    np.testing.assert_array_equal(got[upper], raw[upper])
    np.testing.assert_array_equal(got[:, 2], raw[:, 2])


def test_a_still_frame_keeps_its_landmarks_and_a_shift_moves_them(photo):
    img, lm = photo
    neutral = neutral_frame(img, lm)
    same = follow_lower_face(neutral, img, lm)
    assert np.abs(same - lm).max() < 0.3
    shifted = np.full_like(img, 255)
    shifted[6:, 4:] = img[:-6, :-4]  # the picture moved 4 px right and 6 px down
    raw = track(shifted)
    assert raw is not None
    got = follow_lower_face(neutral, shifted, raw)
    low = lower_face(lm)
    np.testing.assert_allclose((got - lm)[low][:, :2].mean(axis=0), [4.0, 6.0], atol=0.3)
