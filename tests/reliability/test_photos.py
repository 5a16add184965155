"""Photo rows of the reliability matrix (issue 9): every kind of file a user may give as a photo,
through the engine API, the ``facelift`` CLI and the desktop window.

Unusable files end in an ``InputError`` whose one line names the file and the problem (CLI: one
``facelift: error:`` line, exit 2 alone / 1 in a batch, no traceback, nothing written; GUI: a
failure dialog, the window as it was). Usable-but-odd files reconstruct, and the test checks
what a user would notice (upright, right brightness, white where the photo is transparent or
ends, which face was framed). The files are made in tmp_path by photos_cases.py.
"""

from __future__ import annotations

import resource
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from photos_cases import (
    BAD_CASES,
    BadCase,
    astronaut,
    head_mask,
    make_animated_gif,
    make_animated_webp,
    make_astronaut_png,
    make_bomb,
    make_cmyk_jpeg,
    make_cut_face,
    make_empty,
    make_exif_rotated,
    make_folder,
    make_grayscale,
    make_no_face,
    make_one_pixel,
    make_palette_alpha,
    make_png16,
    make_three_faces,
    make_truncated_jpeg,
    make_truncated_png,
    make_unicode_path,
    make_unreadable,
)
from reliability_harness import CliRun, assert_message, assert_nothing_partial, assert_one_line_error, run_cli

from engine.api import InputError, NoFaceFound, ReconstructionRequest, ReconstructionResult
from engine.batch.complete import MARKER
from engine.io import images
from engine.io.images import MIN_PHOTO_SIDE, load_photo
from engine.settings import RunOptions

CLI_FAST = ("--engine", "instant", "--frames", "0", "--size", "64")
"""Small outputs: the matrix is about inputs, not render quality."""

DROP_DAC = ("setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--inh-caps", "-all", "--")
"""Run as root without the capabilities that let root read any file: mode 000 then really stops
reads, as it does for every normal user."""


def _ids(case: BadCase) -> str:
    return case.name


def make_case(name: str) -> BadCase:
    return next(c for c in BAD_CASES if c.name == name)


def _mean_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float64) - b.astype(np.float64)).mean())


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


@pytest.mark.parametrize("case", BAD_CASES, ids=_ids)
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


def _deny_reading(monkeypatch: pytest.MonkeyPatch, locked: Path) -> None:
    """Opening ``locked`` fails as it does for a user without read permission (we run as root,
    where mode 000 does not stop reads); every other file opens normally."""
    real_open = images.Image.open

    def open_or_deny(fp: Any, *args: Any, **kwargs: Any) -> Any:
        if Path(str(fp)) == locked:
            raise PermissionError(13, "Permission denied", str(fp))
        return real_open(fp, *args, **kwargs)

    monkeypatch.setattr(images.Image, "open", open_or_deny)


def test_engine_unreadable_file_injected(
    instant: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = make_unreadable(tmp_path)
    _deny_reading(monkeypatch, path)
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


def _face_found(result: ReconstructionResult, faces: int = 1) -> None:
    notes = " | ".join(result.info["notes"])
    if faces == 1:
        assert "face found" in notes, notes
    else:
        assert f"{faces} faces found; framed the most confident one" in notes, notes
    assert len(result.gaussians) > 10_000


def test_16bit_png_has_the_right_brightness(
    instant: Any, tmp_path: Path, upright: ReconstructionResult
) -> None:
    path = make_png16(tmp_path)
    assert np.array_equal(load_photo(path), astronaut())  # v*257 -> v: not dark, not saturated
    result = _run(instant, path)
    _face_found(result)
    assert _mean_diff(result.input_image, upright.input_image) < 1.0


def test_cmyk_jpeg_keeps_its_colours(instant: Any, tmp_path: Path, upright: ReconstructionResult) -> None:
    from PIL import Image

    path = make_cmyk_jpeg(tmp_path)
    with Image.open(path) as im:
        assert im.mode == "CMYK" and "adobe" in im.info  # as Photoshop writes it
    assert _mean_diff(load_photo(path), astronaut()) < 6  # not inverted, not a negative
    result = _run(instant, path)
    _face_found(result)
    assert _mean_diff(result.input_image, upright.input_image) < 6


def test_palette_transparency_becomes_white(instant: Any, tmp_path: Path) -> None:
    path = make_palette_alpha(tmp_path)
    photo = load_photo(path)
    outside = ~head_mask()
    assert (photo[outside] == 255).all()  # the transparent entry's RGB is black: alpha was applied
    assert _mean_diff(photo[head_mask()], astronaut()[head_mask()]) < 8
    result = _run(instant, path)
    _face_found(result)
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
    assert _mean_diff(photo, astronaut()) < 10  # GIF: 256-colour palette
    _face_found(_run(instant, path))


@pytest.mark.parametrize("orientation", [6, 8])
def test_exif_rotated_photo_is_upright(
    instant: Any, tmp_path: Path, upright: ReconstructionResult, orientation: int
) -> None:
    path = make_exif_rotated(tmp_path, orientation)
    assert _mean_diff(load_photo(path), astronaut()) < 4  # stored sideways, loaded upright
    result = _run(instant, path)
    _face_found(result)
    assert _mean_diff(result.input_image, upright.input_image) < 5
    assert result.info["face_box"] == pytest.approx(upright.info["face_box"], abs=4)


def test_grayscale_photo(instant: Any, tmp_path: Path) -> None:
    path = make_grayscale(tmp_path)
    result = _run(instant, path)
    _face_found(result)
    img = result.input_image.astype(int)
    assert (img[..., 0] == img[..., 1]).all() and (img[..., 1] == img[..., 2]).all()  # still gray


def test_three_faces_frame_one_and_say_so(instant: Any, tmp_path: Path) -> None:
    from engine.preprocess import preprocess_photo
    from engine.preprocess.framing import target_face

    path = make_three_faces(tmp_path)
    result = _run(instant, path)
    _face_found(result, faces=3)
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
    _face_found(result)
    cams = facelift_cameras(128)
    front = render(result.gaussians, cams.c2w[0], cams.fxfycxcy[0], 128, 128, (0.0, 0.0, 0.0))
    rows = edge * 128 // 512 - 2
    assert float(front.alpha[:rows].mean()) < 0.02  # nothing above where the photo ends
    assert float(front.alpha[rows + 8 :].mean()) > 0.2  # the head itself is there


def test_path_with_spaces_and_non_ascii(instant: Any, tmp_path: Path, upright: ReconstructionResult) -> None:
    path = make_unicode_path(tmp_path)
    assert " " in str(path) and not str(path).isascii()
    result = _run(instant, path)
    _face_found(result)
    assert _mean_diff(result.input_image, upright.input_image) < 0.5


# ==========================================================================================
# CLI
# ==========================================================================================


def _cli(capsys: pytest.CaptureFixture[str], *args: str | Path) -> CliRun:
    """``facelift ARGS`` in this process (the imports are already paid for)."""
    from engine.cli import main

    capsys.readouterr()
    rc = main([str(a) for a in args])
    out = capsys.readouterr()
    return CliRun(rc, out.out, out.err)


CLI_SINGLE = [c for c in BAD_CASES if c.name != "folder"]


@pytest.mark.parametrize("case", CLI_SINGLE, ids=_ids)
def test_cli_single_unusable_photo(capsys: pytest.CaptureFixture[str], tmp_path: Path, case: BadCase) -> None:
    path = case.make(tmp_path)
    out = tmp_path / "out"
    run = _cli(capsys, "reconstruct", path, "-o", out, *CLI_FAST)
    line = assert_one_line_error(run, 2, str(path), *case.problem)
    if case.name == "no-face":
        assert line.endswith("try without auto-crop (--no-auto-crop)")  # the CLI names its flag
    assert not out.exists() or not any(out.iterdir())  # no folder, staging or temp file
    assert_nothing_partial(tmp_path)


def test_cli_folder_named_like_a_photo(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """On the CLI a folder means "the photos in it": this one has none, and says so."""
    path = make_folder(tmp_path)
    out = tmp_path / "out"
    run = _cli(capsys, "reconstruct", path, "-o", out, *CLI_FAST)
    assert_one_line_error(run, 2, str(path), "no images in this folder (.png, .jpg, .jpeg, .webp, ...)")
    assert not out.exists()


def test_cli_unreadable_injected(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = make_unreadable(tmp_path)
    _deny_reading(monkeypatch, path)
    out = tmp_path / "out"
    run = _cli(capsys, "reconstruct", path, "-o", out, *CLI_FAST)
    assert_one_line_error(run, 2, str(path), "cannot be read (permission denied)")
    assert not out.exists() or not any(out.iterdir())


def test_cli_odd_photos_all_reconstruct(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every usable-but-odd photo in one batch: exit 0, one output folder each.

    output.png's six renders are replaced by blank images here: they are the same renderer work
    for every photo (1-2 s each on this CPU, tested in tests/render and by the subprocess batch
    below) and say nothing about how the photo was read."""
    import engine.outputs

    def blank_views(gaussians: Any, size: int = 512, *args: Any, **kwargs: Any) -> np.ndarray:
        assert len(gaussians) > 10_000  # the reconstruction itself did happen
        return np.full((6, size, size, 3), 255, np.uint8)

    monkeypatch.setattr(engine.outputs, "render_input_views", blank_views)
    src = tmp_path / "in"
    src.mkdir()
    photos = [
        make_png16(src),
        make_cmyk_jpeg(src),
        make_palette_alpha(src),
        make_animated_gif(src),
        make_animated_webp(src),
        make_exif_rotated(src, 6),
        make_grayscale(src),
        make_three_faces(src),
        make_cut_face(src),
        make_unicode_path(src),
    ]
    out = tmp_path / "out"
    run = _cli(capsys, "reconstruct", *photos, "-o", out, *CLI_FAST)
    assert run.rc == 0, run.stderr
    assert not run.error_lines and "Traceback" not in run.stderr
    names = {
        "deep",
        "print",
        "cutout",
        "wave_gif",
        "wave_webp",
        "phone_6",
        "gray",
        "group",
        "tight",
        "Zoë 写真",
    }
    assert {p.name for p in out.iterdir()} == names
    for name in names:
        assert {p.name for p in (out / name).iterdir()} == {
            "input.png",
            "gaussians.ply",
            "output.png",
            MARKER,
        }
    assert_nothing_partial(out)
    # What was framed is what a user would expect to see in input.png.
    assert _mean_diff(load_photo(out / "phone_6" / "input.png"), load_photo(out / "deep" / "input.png")) < 5


def test_cli_subprocess_single_bad_photo(tmp_path: Path) -> None:
    """As a user sees it on a terminal: exit 2, one line, no traceback, nothing written."""
    path = make_truncated_jpeg(tmp_path)
    out = tmp_path / "out"
    run = run_cli("reconstruct", path, "-o", out, *CLI_FAST)
    assert_one_line_error(run, 2, str(path), *make_case("truncated-jpeg").problem)
    assert not out.exists() or not any(out.iterdir())
    assert_nothing_partial(tmp_path)


def test_cli_subprocess_batch_of_good_and_bad(tmp_path: Path) -> None:
    """Good photos are written, each bad one gets its own line, the exit code is 1."""
    good = [make_unicode_path(tmp_path)]
    bad = {
        case.make(tmp_path): case.problem
        for case in map(make_case, ("empty", "random-bytes", "truncated-png", "1x1", "bomb", "no-face"))
    }
    out = tmp_path / "out"
    run = run_cli("reconstruct", *list(bad)[:3], good[0], *list(bad)[3:], "-o", out, *CLI_FAST)
    assert "Traceback" not in run.stderr
    assert run.rc == 1, run.stderr
    assert len(run.error_lines) == len(bad), run.stderr
    for path, words in bad.items():
        line = next((e for e in run.error_lines if str(path) in e), None)
        assert line is not None, (path, run.error_lines)
        assert_message(line, *words)
    assert f"{len(bad)} of {len(bad) + len(good)} inputs failed" in run.stderr
    assert {p.name for p in out.iterdir()} == {"Zoë 写真"}
    assert {p.name for p in (out / "Zoë 写真").iterdir()} == {
        "input.png",
        "gaussians.ply",
        "output.png",
        MARKER,
    }
    assert load_photo(out / "Zoë 写真" / "output.png").shape == (64, 6 * 64, 3)
    assert_nothing_partial(out)
    assert f"{good[0]}: done" in run.stderr  # the non-ASCII path prints as it is


def test_cli_subprocess_unreadable_file(tmp_path: Path) -> None:
    """A real permission error from the OS. The brief's way (``user="nobody"``) cannot work on
    this machine: the interpreter lives under /root (mode 0700), so nobody cannot even start
    Python. Instead the CLI runs as root without CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH
    (setpriv), so a mode-000 file is unreadable exactly as for any user."""
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is not installed")
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o777)
    path = make_unreadable(folder)
    out = tmp_path / "out"
    run = run_cli("reconstruct", path, "-o", out, *CLI_FAST, wrapper=DROP_DAC)
    assert_one_line_error(run, 2, str(path), "cannot be read (permission denied)")
    assert not out.exists() or not any(out.iterdir())


# ==========================================================================================
# GUI
# ==========================================================================================


def _drop(window: Any, path: Path) -> None:
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDropEvent

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(
        QPointF(300, 300),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(event)


def test_gui_bad_photos_leave_the_window_as_it_was(
    qtbot: Any, gui_window: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = gui_window()
    good = make_unicode_path(tmp_path)  # "my photos/Zoë 写真.png"
    assert window.open_photo(good)
    assert np.array_equal(window.photo, astronaut())
    assert window.parameters_panel.parameters().config.engine == "instant"  # no weights in this home
    assert window.reconstruct_action.isEnabled()
    locked = make_unreadable(tmp_path)
    _deny_reading(monkeypatch, locked)
    cases: list[tuple[Path, tuple[str, ...]]] = [
        (make_case(name).make(tmp_path), make_case(name).problem)
        for name in ("empty", "random-bytes", "truncated-jpeg", "bomb", "folder", "1x1")
    ]
    cases.append((locked, ("cannot be read (permission denied)",)))
    for i, (path, words) in enumerate(cases):
        window.last_failure_dialog = None
        if i % 2:
            _drop(window, path)
        else:
            assert window.open_photo(path) is False
        dialog = window.last_failure_dialog
        assert dialog is not None, path
        assert dialog.windowTitle() == "Cannot open the photo"
        assert_message(dialog.reason_label.text(), str(path), *words)
        assert window.photo_path == good  # the previous photo is still the one loaded
        assert window.reconstruct_action.isEnabled()
        assert window.progress_panel.reconstruct_button.isEnabled()
    # A photo stored sideways (EXIF orientation 6) is dropped: it shows and runs upright.
    rotated = make_exif_rotated(tmp_path, 6)
    _drop(window, rotated)
    assert window.photo_path == rotated and _mean_diff(window.photo, astronaut()) < 4
    with qtbot.waitSignal(window.run_finished, timeout=60_000) as finished:
        assert window.reconstruct()
    result = finished.args[0]
    assert window.result is result
    _face_found(result)


def test_gui_no_face_fails_then_auto_crop_off_succeeds(qtbot: Any, gui_window: Any, tmp_path: Path) -> None:
    window = gui_window()
    cup = make_no_face(tmp_path)
    assert window.open_photo(cup)  # a fine image: the face is looked for when reconstructing
    window.parameters_panel.auto_crop.setChecked(True)
    with qtbot.waitSignal(window.run_failed, timeout=60_000):
        assert window.reconstruct()
    dialog = window.last_failure_dialog
    assert dialog is not None and dialog.windowTitle() == "Reconstruction failed"
    assert_message(dialog.reason_label.text(), str(cup), "no face found — try without auto-crop")
    assert window.result is None and window.reconstruct_action.isEnabled()
    window.parameters_panel.auto_crop.setChecked(False)
    with qtbot.waitSignal(window.run_finished, timeout=60_000) as finished:
        assert window.reconstruct()
    result = finished.args[0]
    assert any("auto-crop off" in n for n in result.info["notes"])
    assert window.result is result and len(result.gaussians) > 0
