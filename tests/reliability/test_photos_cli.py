"""Photo rows of the reliability matrix (issue 9) through the ``facelift`` CLI.

An unusable file gives one ``facelift: error:`` line naming the file and the problem (exit 2
alone, 1 in a batch), no traceback, nothing written; every usable-but-odd file reconstructs. In
this process for speed, and as a subprocess where the terminal is the point. The files are made
in tmp_path by photos_cases.py.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from photos_cases import (
    BAD_CASES,
    BadCase,
    case_id,
    deny_reading,
    make_animated_gif,
    make_animated_webp,
    make_case,
    make_cmyk_jpeg,
    make_cut_face,
    make_exif_rotated,
    make_folder,
    make_grayscale,
    make_palette_alpha,
    make_png16,
    make_three_faces,
    make_truncated_jpeg,
    make_unicode_path,
    make_unreadable,
    mean_diff,
)
from reliability_harness import CliRun, assert_message, assert_nothing_partial, assert_one_line_error, run_cli

from engine.batch.complete import MARKER
from engine.io.images import load_photo

CLI_FAST = ("--engine", "instant", "--frames", "0", "--size", "64")
"""Small outputs: the matrix is about inputs, not render quality."""

DROP_DAC = ("setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--inh-caps", "-all", "--")
"""Run as root without the capabilities that let root read any file: mode 000 then really stops
reads, as it does for every normal user."""


def _cli(capsys: pytest.CaptureFixture[str], *args: str | Path) -> CliRun:
    """``facelift ARGS`` in this process (the imports are already paid for)."""
    from engine.cli import main

    capsys.readouterr()
    rc = main([str(a) for a in args])
    out = capsys.readouterr()
    return CliRun(rc, out.out, out.err)


CLI_SINGLE = [c for c in BAD_CASES if c.name != "folder"]


@pytest.mark.parametrize("case", CLI_SINGLE, ids=case_id)
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
    deny_reading(monkeypatch, path)
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
    assert mean_diff(load_photo(out / "phone_6" / "input.png"), load_photo(out / "deep" / "input.png")) < 5


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
