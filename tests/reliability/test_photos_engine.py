"""Photo rows of the reliability matrix (issue 9) through the engine API: every kind of file a
user may give as a photo.

Unusable files end in an ``InputError`` whose one line names the file and the problem, the same
from both engines. Usable-but-odd files reconstruct, and the test checks what a user would notice
(upright, right brightness, white where the photo is transparent or ends, which face was framed).
The files are made in tmp_path by photos_cases.py; the CLI and the window get the same files in
test_photos_cli.py and test_photos_gui.py.
"""

from __future__ import annotations

import resource
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from photos_cases import (
    BAD_CASES,
    BadCase,
    assert_face_found,
    astronaut,
    case_id,
    deny_reading,
    head_mask,
    make_animated_gif,
    make_animated_webp,
    make_astronaut_png,
    make_bomb,
    make_cmyk_jpeg,
    make_cut_face,
    make_empty,
    make_exif_rotated,
    make_grayscale,
    make_no_face,
    make_one_pixel,
    make_palette_alpha,
    make_png16,
    make_three_faces,
    make_truncated_png,
    make_unicode_path,
    make_unreadable,
    mean_diff,
)
from reliability_harness import assert_message

from engine.api import InputError, NoFaceFound, ReconstructionRequest, ReconstructionResult
from engine.io.images import MIN_PHOTO_SIDE, load_photo
from engine.settings import RunOptions


@pytest.fixture(scope="module")
def instant() -> Iterator[Any]:
    """One instant engine for the module (loading mediapipe costs more than a run)."""
    from engine.engines import InstantEngine

    engine = InstantEngine()
    engine.load()
    yield engine
    engine.unload()


def _run(engine: Any, path: Path, auto_crop: bool = True) -> ReconstructionResult:
    return engine.run(ReconstructionRequest(path, RunOptions(auto_crop=auto_crop)))  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def upright(instant: Any, tmp_path_factory: pytest.TempPathFactory) -> ReconstructionResult:
    """The plain astronaut PNG's result: what every odd-but-usable variant should look like."""
    return _run(instant, make_astronaut_png(tmp_path_factory.mktemp("upright")))


# ==========================================================================================
# Engine API: unusable files
# ==========================================================================================


@pytest.mark.parametrize("case", BAD_CASES, ids=case_id)
def test_engine_refuses_unusable_photo(instant: Any, tmp_path: Path, case: BadCase) -> None:
    path = case.make(tmp_path)
    with pytest.raises(InputError) as err:
        _run(instant, path)
    assert_message(str(err.value), str(path), *case.problem)
    assert isinstance(err.value, NoFaceFound) == (case.name == "no-face")


def test_minimum_size_is_the_named_constant(instant: Any, tmp_path: Path) -> None:
    """31 px is refused with the minimum in the message; 32 px passes the size check (and then,
    without auto-crop, reconstructs: a tiny photo is not a reason to refuse it if it is big
    enough to hold a face)."""
    from PIL import Image

    assert MIN_PHOTO_SIDE == 32
    small = tmp_path / "thumb.png"
    Image.fromarray(astronaut()).resize((31, 40)).save(small)
    with pytest.raises(InputError) as err:
        _run(instant, small)
    assert_message(str(err.value), str(small), "31x40", "too small", "32x32")
    ok = tmp_path / "thumb32.png"
    Image.fromarray(astronaut()).resize((32, 32)).save(ok)
    assert len(_run(instant, ok, auto_crop=False).gaussians) > 0


def test_bomb_is_refused_from_its_header(tmp_path: Path) -> None:
    """The 30000x30000 header (2.7 GB of pixels) is refused before anything is decoded: the
    process's peak memory does not grow by even 100 MB."""
    path = make_bomb(tmp_path)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(InputError) as err:
        load_photo(path)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 100
    assert_message(str(err.value), str(path), "too large", "900 megapixels", "150 megapixel limit")


def test_engine_unreadable_file_injected(
    instant: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = make_unreadable(tmp_path)
    deny_reading(monkeypatch, path)
    with pytest.raises(InputError) as err:
        _run(instant, path)
    assert_message(str(err.value), str(path), "cannot be read (permission denied)")


@pytest.mark.parametrize(
    "make", [make_empty, make_truncated_png, make_one_pixel, make_no_face], ids=lambda m: m.__name__[5:]
)
def test_facelift_engine_gives_the_same_errors(
    instant: Any, conformance_dir: Path, tmp_path: Path, make: Any
) -> None:
    """Both engines share the preprocessing, so a bad photo reads the same whichever runs (and
    the FaceLift engine refuses it before loading its models)."""
    from engine.engines import FaceLiftEngine

    path = make(tmp_path)
    facelift = FaceLiftEngine(conformance_dir, device="cpu")
    with pytest.raises(InputError) as from_facelift:
        _run(facelift, path)
    with pytest.raises(InputError) as from_instant:
        _run(instant, path)
    assert str(from_facelift.value) == str(from_instant.value)
    assert facelift._mv is None and facelift._lrm is None  # nothing loaded for a bad photo


# ==========================================================================================
# Engine API: usable but odd
# ==========================================================================================


def test_16bit_png_has_the_right_brightness(
    instant: Any, tmp_path: Path, upright: ReconstructionResult
) -> None:
    path = make_png16(tmp_path)
    assert np.array_equal(load_photo(path), astronaut())  # v*257 -> v: not dark, not saturated
    result = _run(instant, path)
    assert_face_found(result)
    assert mean_diff(result.input_image, upright.input_image) < 1.0


def test_cmyk_jpeg_keeps_its_colours(instant: Any, tmp_path: Path, upright: ReconstructionResult) -> None:
    from PIL import Image

    path = make_cmyk_jpeg(tmp_path)
    with Image.open(path) as im:
        assert im.mode == "CMYK" and "adobe" in im.info  # as Photoshop writes it
    assert mean_diff(load_photo(path), astronaut()) < 6  # not inverted, not a negative
    result = _run(instant, path)
    assert_face_found(result)
    assert mean_diff(result.input_image, upright.input_image) < 6


def test_palette_transparency_becomes_white(instant: Any, tmp_path: Path) -> None:
    path = make_palette_alpha(tmp_path)
    photo = load_photo(path)
    outside = ~head_mask()
    assert (photo[outside] == 255).all()  # the transparent entry's RGB is black: alpha was applied
    assert mean_diff(photo[head_mask()], astronaut()[head_mask()]) < 8
    result = _run(instant, path)
    assert_face_found(result)
    assert any("the photo's own transparency" in n for n in result.info["notes"])
    assert result.input_alpha is not None
    clear = result.input_alpha == 0
    assert clear.mean() > 0.2 and (result.input_image[clear] == 255).all()


@pytest.mark.parametrize("make", [make_animated_gif, make_animated_webp], ids=["gif", "webp"])
def test_animation_uses_its_first_frame(instant: Any, tmp_path: Path, make: Any) -> None:
    """Frame 0 is the astronaut, frame 1 a coffee cup: a face is found only in frame 0."""
    path = make(tmp_path)
    photo = load_photo(path)
    assert photo.shape == (512, 512, 3)
    assert mean_diff(photo, astronaut()) < 10  # GIF: 256-colour palette
    assert_face_found(_run(instant, path))


@pytest.mark.parametrize("orientation", [6, 8])
def test_exif_rotated_photo_is_upright(
    instant: Any, tmp_path: Path, upright: ReconstructionResult, orientation: int
) -> None:
    path = make_exif_rotated(tmp_path, orientation)
    assert mean_diff(load_photo(path), astronaut()) < 4  # stored sideways, loaded upright
    result = _run(instant, path)
    assert_face_found(result)
    assert mean_diff(result.input_image, upright.input_image) < 5
    assert result.info["face_box"] == pytest.approx(upright.info["face_box"], abs=4)


def test_grayscale_photo(instant: Any, tmp_path: Path) -> None:
    path = make_grayscale(tmp_path)
    result = _run(instant, path)
    assert_face_found(result)
    img = result.input_image.astype(int)
    assert (img[..., 0] == img[..., 1]).all() and (img[..., 1] == img[..., 2]).all()  # still gray


def test_three_faces_frame_one_and_say_so(instant: Any, tmp_path: Path) -> None:
    from engine.preprocess import preprocess_photo
    from engine.preprocess.framing import target_face

    path = make_three_faces(tmp_path)
    result = _run(instant, path)
    assert_face_found(result, faces=3)
    # The crop is one whole head at FaceLift's framing, not the middle of the group.
    prepared = preprocess_photo(path)
    sx, _sy, tx, _ty = prepared.photo_to_image  # type: ignore[misc]
    tcx, _tcy, size = target_face()
    centre_in_photo = (tcx - tx) / sx
    heads = [(15, 285), (300, 600), (615, 885)]
    assert any(lo + 60 < centre_in_photo < hi - 60 for lo, hi in heads), centre_in_photo
    x1, y1, x2, y2 = result.info["face_box"]
    assert (x2 - x1, y2 - y1) == pytest.approx((size, size), rel=0.05)  # framed at FaceLift's size


def test_face_cut_by_the_edge_is_framed_with_nothing_beyond_the_photo(instant: Any, tmp_path: Path) -> None:
    """The photo's top edge runs through the hair: the crop shows white beyond it, and the head
    gets nothing there (the segmenter used to call that white "person", which put a white cap
    on the head -- plainly visible on the viewer's dark background)."""
    from engine.cameras import facelift_cameras
    from engine.preprocess import preprocess_photo
    from engine.render import render

    path = make_cut_face(tmp_path)
    prepared = preprocess_photo(path)
    edge = int(prepared.photo_to_image[3])  # type: ignore[index]  # the photo's top row on the canvas
    assert edge > 100  # FaceLift's framing puts the cut well inside the crop
    assert (prepared.image[:edge] == 255).all()
    assert prepared.alpha is not None and float(prepared.alpha[:edge].max()) == 0.0
    result = _run(instant, path)
    assert_face_found(result)
    cams = facelift_cameras(128)
    front = render(result.gaussians, cams.c2w[0], cams.fxfycxcy[0], 128, 128, (0.0, 0.0, 0.0))
    rows = edge * 128 // 512 - 2
    assert float(front.alpha[:rows].mean()) < 0.02  # nothing above where the photo ends
    assert float(front.alpha[rows + 8 :].mean()) > 0.2  # the head itself is there


def test_path_with_spaces_and_non_ascii(instant: Any, tmp_path: Path, upright: ReconstructionResult) -> None:
    path = make_unicode_path(tmp_path)
    assert " " in str(path) and not str(path).isascii()
    result = _run(instant, path)
    assert_face_found(result)
    assert mean_diff(result.input_image, upright.input_image) < 0.5
