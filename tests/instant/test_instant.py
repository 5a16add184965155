"""The instant engine: a closed head in the FaceLift frame, measured with the project renderer."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage
from skimage import data

from engine.api import Cancelled, CancelToken, ProgressEvent
from engine.cameras import facelift_cameras
from engine.gaussians import Gaussians
from engine.instant import InstantReconstructor
from engine.preprocess import Prepared, preprocess_photo


@pytest.fixture(scope="module")
def prepared() -> Prepared:
    return preprocess_photo(data.astronaut())


@pytest.fixture(scope="module")
def head(prepared: Prepared) -> Gaussians:
    return InstantReconstructor().run(prepared)


def test_size_and_frame(head: Gaussians) -> None:
    assert 100_000 <= len(head) <= 300_000
    lo, hi = head.bbox()
    # Head centred on the orbit's centre, face toward -Y, inside the cameras' reach.
    assert np.all(np.abs(lo) < 1.6) and np.all(np.abs(hi) < 1.6)
    assert lo[1] < -0.3 and hi[1] > 0.3  # has depth both in front of and behind the origin
    assert head.sh_degree == 0


def test_progress_and_cancel(prepared: Prepared) -> None:
    events: list[ProgressEvent] = []
    InstantReconstructor().run(prepared, on_progress=events.append)
    assert {e.stage for e in events} == {"instant"}
    assert [e.step for e in events] == sorted(e.step for e in events) and len(events) >= 5
    token = CancelToken()

    def cancel_at_depth(event: ProgressEvent) -> None:
        if event.step == 1:
            token.cancel()

    with pytest.raises(Cancelled):
        InstantReconstructor().run(prepared, on_progress=cancel_at_depth, cancel=token)


@pytest.mark.slow
def test_renders_front_matches_photo_and_closed_from_every_side(prepared: Prepared, head: Gaussians) -> None:
    from engine.render import render

    cams = facelift_cameras(512)
    front = render(head, cams.c2w[0], cams.fxfycxcy[0], 512, 512)
    fg = (prepared.alpha if prepared.alpha is not None else np.ones((512, 512))) > 0.5
    mse = float(((front.rgb * 255.0 - prepared.image.astype(np.float64)) ** 2)[fg].mean())
    psnr = 10 * np.log10(255.0**2 / mse)
    assert psnr >= 28.0, psnr
    for slot in (1, 2, 3, 4, 5):
        r = render(head, cams.c2w[slot], cams.fxfycxcy[slot], 512, 512)
        sil = ndimage.binary_fill_holes(r.alpha > 0.5)
        assert sil.sum() > 0.1 * sil.size, slot  # a head, not an edge-on mask
        assert (r.alpha[sil] > 0.5).mean() >= 0.97, slot
    # The back view shows a closed head: hair-coloured (not the face) in its upper middle.
    back = render(head, cams.c2w[3], cams.fxfycxcy[3], 512, 512)
    assert back.alpha[200:260, 230:280].min() > 0.95
