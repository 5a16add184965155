"""engine.io.atomic: outputs appear complete or not at all."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest

from engine.api import Cancelled, OutputError
from engine.io.atomic import atomic_write, refuse_overwrite


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_success_replaces_the_destination(tmp_path):
    dest = tmp_path / "out.ply"
    dest.write_text("old")
    with atomic_write(dest) as tmp:
        assert tmp.parent == tmp_path
        assert tmp.name.startswith(".out.tmp-") and tmp.suffix == ".ply"
        assert dest.read_text() == "old"  # untouched while the new file is being written
        tmp.write_text("new")
    assert dest.read_text() == "new"
    assert _leftovers(tmp_path) == ["out.ply"]


def test_suffix_override_keeps_a_sniffable_extension(tmp_path):
    with atomic_write(tmp_path / "clip.mp4", suffix=".gif") as tmp:
        assert tmp.suffix == ".gif"
        tmp.write_bytes(b"GIF89a")
    assert (tmp_path / "clip.mp4").read_bytes() == b"GIF89a"


@pytest.mark.parametrize("exc_type", [RuntimeError, Cancelled, KeyboardInterrupt])
def test_failure_leaves_no_file_and_keeps_the_old_one(tmp_path, exc_type):
    dest = tmp_path / "turntable.mp4"
    dest.write_text("previous result")
    with pytest.raises(exc_type), atomic_write(dest) as tmp:
        tmp.write_text("half a video")
        raise exc_type("stop")
    assert dest.read_text() == "previous result"
    assert _leftovers(tmp_path) == ["turntable.mp4"]


def test_failure_without_an_old_file_leaves_nothing(tmp_path):
    with pytest.raises(ValueError), atomic_write(tmp_path / "a.png") as tmp:
        tmp.write_bytes(b"partial")
        raise ValueError("encoder failed")
    assert _leftovers(tmp_path) == []


def test_writer_that_removes_its_file_is_an_error(tmp_path):
    with pytest.raises(OutputError, match="produced no file"), atomic_write(tmp_path / "a.png") as tmp:
        tmp.unlink()
    assert _leftovers(tmp_path) == []


def test_disk_errors_in_the_body_become_one_line_output_errors(tmp_path):
    dest = tmp_path / "big.ply"
    with pytest.raises(OutputError) as info, atomic_write(dest):
        raise OSError(28, "No space left on device")
    assert str(dest) in str(info.value) and "No space left" in str(info.value)
    assert "\n" not in str(info.value)
    assert _leftovers(tmp_path) == []


def test_missing_folder_is_an_output_error(tmp_path):
    dest = tmp_path / "nope" / "x.ply"
    with pytest.raises(OutputError, match="does not exist"), atomic_write(dest):
        pass


@contextlib.contextmanager
def _unprivileged():
    """Drop the effective uid when running as root (root ignores folder permissions)."""
    if os.geteuid() != 0:
        yield
        return
    os.seteuid(65534)
    try:
        yield
    finally:
        os.seteuid(0)


def test_permission_denied_names_the_path_on_one_line(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    tmp_path.chmod(0o755)
    dest = folder / "gaussians.ply"
    try:
        with _unprivileged(), pytest.raises(OutputError) as info, atomic_write(dest) as tmp:
            tmp.write_text("never")
    finally:
        folder.chmod(0o755)
    msg = str(info.value)
    assert str(dest) in msg and "ermission denied" in msg and "\n" not in msg
    assert _leftovers(folder) == []


def test_refuse_overwrite(tmp_path):
    dest = tmp_path / "gaussians.ply"
    assert refuse_overwrite(dest) == dest
    dest.write_text("x")
    with pytest.raises(OutputError, match="already exists") as info:
        refuse_overwrite(dest)
    assert str(dest) in str(info.value)
    assert refuse_overwrite(dest, overwrite=True) == dest
    with pytest.raises(OutputError, match="is a folder"):
        refuse_overwrite(tmp_path, overwrite=True)
    with pytest.raises(OutputError, match="does not exist"):
        refuse_overwrite(tmp_path / "missing" / "a.ply")


def test_atomic_write_can_refuse_to_overwrite(tmp_path):
    dest = tmp_path / "a.txt"
    dest.write_text("keep")
    with pytest.raises(OutputError, match="already exists"), atomic_write(dest, overwrite=False) as tmp:
        tmp.write_text("replace")
    assert dest.read_text() == "keep"
    assert _leftovers(tmp_path) == ["a.txt"]


def test_new_file_gets_normal_permissions(tmp_path):
    dest = tmp_path / "a.txt"
    old = os.umask(0o022)
    try:
        with atomic_write(dest) as tmp:
            tmp.write_text("x")
    finally:
        os.umask(old)
    assert dest.stat().st_mode & 0o777 == 0o644
