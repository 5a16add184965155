"""Fault injection for the outputs rows of the reliability matrix (tests/reliability/test_outputs.py).

* :func:`unwritable` makes one folder refuse every create / rename / mkdir in this process (we run
  as root, for whom a 0o555 folder is still writable), at the lowest level the writers share:
  ``os.open`` (atomic_write's reservation and tempfile.mkstemp), ``open``/``io.open`` for writing,
  ``os.mkdir``, ``os.replace``/``os.rename``.
* :func:`fault_while_writing` lets the files whose names contain ``match`` under a folder take
  ``after`` bytes, writes the part of the next chunk that fits (as a full disk does), then raises
  ``exc`` -- OSError(ENOSPC) for "disk full", or KeyboardInterrupt / Cancelled / RuntimeError for
  "interrupted half-way". It wraps files opened with ``open``/``io.open``/``Path.open`` and
  ``os.fdopen`` (save_png), i.e. every Python-side writer; ffmpeg writes in its own process.
* :func:`tiny_tmpfs` mounts a real small tmpfs (root only; skips with mount's reason elsewhere).
* :func:`snapshot` records every file's bytes under a folder, to prove earlier files untouched.
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import io
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine.api import Cancelled, ReconstructionResult
from engine.io import export as engine_export
from engine.io.images import save_png
from engine.io.video import write_video


def disk_full() -> OSError:
    """A fresh OSError(ENOSPC) as a full disk raises it from write() (no file name)."""
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def snapshot(folder: Path) -> dict[str, bytes]:
    """{relative path: bytes} of every file under ``folder``."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _inside(path: Any, folder: Path) -> bool:
    try:
        p = Path(os.fsdecode(path))
    except TypeError:  # a file descriptor
        return False
    return p.is_absolute() and (p == folder or folder in p.parents)


def _writing(mode: str) -> bool:
    return any(c in mode for c in "wax+")


def unwritable(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Creating, renaming into or making folders inside ``folder`` raises PermissionError(EACCES)."""
    folder = folder.resolve()

    def denied(path: Any) -> PermissionError:
        return PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fsdecode(path))

    real_os_open, real_mkdir, real_replace, real_rename = os.open, os.mkdir, os.replace, os.rename
    real_open = builtins.open

    def os_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & (os.O_CREAT | os.O_WRONLY | os.O_RDWR) and _inside(path, folder):
            raise denied(path)
        return real_os_open(path, flags, *args, **kwargs)

    def mkdir(path: Any, *args: Any, **kwargs: Any) -> None:
        if _inside(path, folder):
            raise denied(path)
        real_mkdir(path, *args, **kwargs)

    def replace(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        if _inside(dst, folder):
            raise denied(dst)
        real_replace(src, dst, *args, **kwargs)

    def rename(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        if _inside(dst, folder):
            raise denied(dst)
        real_rename(src, dst, *args, **kwargs)

    def open_(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if _writing(mode) and _inside(file, folder):
            raise denied(file)
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(os, "open", os_open)
    monkeypatch.setattr(os, "mkdir", mkdir)
    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(os, "rename", rename)
    monkeypatch.setattr(builtins, "open", open_)
    monkeypatch.setattr(io, "open", open_)


class _FaultyFile:
    """A writable file that takes ``budget[0]`` more bytes, then raises ``exc``."""

    def __init__(
        self, real: Any, budget: list[int], exc: Callable[[], BaseException], hits: list[str]
    ) -> None:
        self._real = real
        self._budget = budget
        self._exc = exc
        self._hits = hits

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        if len(chunk) > self._budget[0]:
            fits = chunk[: self._budget[0]]
            self._real.write(fits)
            self._budget[0] = 0
            self._hits.append(str(getattr(self._real, "name", "?")))
            raise self._exc()
        self._budget[0] -= len(chunk)
        return int(self._real.write(chunk))

    def __enter__(self) -> _FaultyFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self._real.close()

    def __iter__(self) -> Iterator[Any]:
        return iter(self._real)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def fault_while_writing(
    monkeypatch: pytest.MonkeyPatch,
    folder: Path,
    match: str,
    after: int,
    exc: Callable[[], BaseException] = disk_full,
) -> list[str]:
    """Files under ``folder`` whose name contains ``match`` fail with ``exc()`` after ``after`` bytes
    (shared budget). Returns a list that records each file a fault hit (to prove it fired)."""
    folder = folder.resolve()
    budget = [after]
    hits: list[str] = []
    real_open, real_fdopen = builtins.open, os.fdopen

    def wanted(path: Any) -> bool:
        return _inside(path, folder) and match in Path(os.fsdecode(path)).name

    def open_(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        real = real_open(file, mode, *args, **kwargs)
        if _writing(mode) and "b" in mode and wanted(file):
            return _FaultyFile(real, budget, exc, hits)
        return real

    def fdopen(fd: int, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        real = real_fdopen(fd, mode, *args, **kwargs)
        target = os.readlink(f"/proc/self/fd/{fd}") if sys.platform.startswith("linux") else ""
        if _writing(mode) and target and wanted(target):
            return _FaultyFile(real, budget, exc, hits)
        return real

    monkeypatch.setattr(builtins, "open", open_)
    monkeypatch.setattr(io, "open", open_)
    monkeypatch.setattr(os, "fdopen", fdopen)
    return hits


@contextlib.contextmanager
def tiny_tmpfs(mountpoint: Path, size: str = "1m") -> Iterator[Path]:
    """A real tmpfs of ``size`` at ``mountpoint`` (needs root and permission to mount).

    Skips the test with mount's own message where mounting is not allowed (e.g. some CI
    containers)."""
    mountpoint.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a tiny tmpfs needs root (tests run as root here and in CI)")
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(mountpoint)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {(proc.stderr or proc.stdout).strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False, capture_output=True)


def fill(folder: Path, leave: int) -> Path:
    """Fill the file system of ``folder`` until about ``leave`` bytes are free; returns the filler."""
    filler = folder / "filler.bin"
    free = os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize
    with open(filler, "wb") as fh:
        fh.write(bytes(max(0, free - leave)))
    return filler


INTERRUPTS: dict[str, Callable[[], BaseException]] = {
    "error": lambda: RuntimeError("simulated failure half-way"),
    "ctrl-c": KeyboardInterrupt,
    "cancel": lambda: Cancelled("cancelled half-way"),
}
NO_SPACE = "No space left on device"
DENIED = "Permission denied"


def earlier(folder: Path, *names: str) -> dict[str, bytes]:
    """Put an earlier file of each name in ``folder``; returns the snapshot to compare with."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(b"earlier " + name.encode() + bytes(range(256)))
    return snapshot(folder)


# ---- the writers under test, by name ------------------------------------------------------------

FILE_WRITERS = ("ply", "splat", "png", "mp4")


def write_kind(kind: str, result: ReconstructionResult, folder: Path) -> Path:
    """Write ``result`` the way ``kind`` does into ``folder`` with overwrite on; returns the target."""
    g = result.gaussians
    if kind == "ply":
        target = folder / "gaussians.ply"
        engine_export.export_ply(g, target)
    elif kind == "splat":
        target = folder / "head.splat"
        engine_export.export_splat(g, target)
    elif kind == "png":
        target = folder / "snapshot.png"
        assert result.input_image is not None
        save_png(result.input_image, target)
    elif kind == "mp4":
        target = folder / "turntable.mp4"
        noise = np.random.default_rng(0).integers(0, 255, (24, 96, 96, 3), dtype=np.uint8)
        write_video(iter(noise), target, fps=24)
    else:
        raise AssertionError(kind)
    return target


def limit_ffmpeg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, blocks: int) -> None:
    """Every ffmpeg run (ours and imageio's, via IMAGEIO_FFMPEG_EXE) is the real ffmpeg whose
    writes fail after ``blocks`` x 512 bytes: ulimit -f with SIGXFSZ ignored makes write() fail
    with EFBIG in the middle of the frames, as a full disk makes it fail with ENOSPC."""
    import imageio_ffmpeg

    script = tmp_path / "ffmpeg-limited"
    real = imageio_ffmpeg.get_ffmpeg_exe()
    script.write_text(f"#!/bin/sh\ntrap '' XFSZ\nulimit -f {blocks}\nexec '{real}' \"$@\"\n")
    script.chmod(0o755)
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(script))
