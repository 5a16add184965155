"""Object framing (engine.preprocess.object_framing): any subject, no face needed."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from engine.errors import InputError
from engine.preprocess import preprocess_photo
from engine.preprocess.object_framing import mask_box


def _statue(size=(500, 700), background=None) -> np.ndarray:
    """A grey 'statue' (plinth + body + head) low in the frame: RGBA with transparency, or
    opaque on ``background``."""
    im = Image.new("RGBA", size, (0, 0, 0, 0) if background is None else (*background, 255))
    d = ImageDraw.Draw(im)
    d.rectangle((180, 520, 330, 600), fill=(90, 90, 100, 255))
    d.ellipse((200, 330, 310, 530), fill=(140, 140, 150, 255))
    d.ellipse((225, 270, 285, 340), fill=(160, 150, 150, 255))
    return np.asarray(im)


def _box_of(alpha: np.ndarray) -> tuple[int, int, int, int]:
    box = mask_box(alpha > 0.5)
    assert box is not None
    return box


@pytest.mark.parametrize("ratio", [0.6, 0.45])
def test_own_alpha_subject_is_centred_at_the_target_ratio(ratio):
    prepared = preprocess_photo(_statue(), framing="object", target_ratio=ratio)
    x0, y0, x1, y1 = _box_of(prepared.alpha)
    assert abs(max(x1 - x0, y1 - y0) - ratio * 512) <= 0.02 * ratio * 512
    assert abs((x0 + x1) / 2 - 256) <= 4 and abs((y0 + y1) / 2 - 256) <= 4
    assert prepared.face_box is None and "the photo's own transparency" in " ".join(prepared.notes)
    # composited on white: the corners are white, the subject is not
    assert (prepared.image[:8, :8] == 255).all()
    assert (prepared.image[256, 256] < 200).all()


def test_an_opaque_photo_gets_a_grabcut_matte():
    photo = _statue(background=(225, 230, 220))
    prepared = preprocess_photo(photo, framing="object")
    assert "GrabCut" in " ".join(prepared.notes)
    x0, y0, x1, y1 = _box_of(prepared.alpha)
    assert abs(max(x1 - x0, y1 - y0) - 0.6 * 512) <= 0.05 * 0.6 * 512
    assert abs((x0 + x1) / 2 - 256) <= 8 and abs((y0 + y1) / 2 - 256) <= 8
    # the background became white, the statue kept its grey
    assert (prepared.image[:20, :20] >= 250).all()
    assert abs(int(prepared.image[256, 256, 0]) - 140) < 20


def test_an_empty_mask_is_a_one_line_error():
    empty = np.zeros((300, 300, 4), np.uint8)
    with pytest.raises(InputError, match="no subject found"):
        preprocess_photo(empty, framing="object")
