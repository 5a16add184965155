"""Atomic output files: write to a hidden temp name in the same folder, then rename.

A failed, interrupted or cancelled write never leaves a partial file at the destination,
and an existing file there stays untouched until the new one is complete.

Usage::

    with atomic_write(out / "turntable.mp4") as tmp:   # tmp: out/.turntable.tmp-1a2b3c4d.mp4
        encoder.write(tmp)
    # now out/turntable.mp4 exists; on any exception the temp file is gone instead.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

from engine.api import OutputError

_TMP_MARK = ".tmp-"


def _describe(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def refuse_overwrite(path: Path | str, overwrite: bool = False) -> Path:
    """Check that ``path`` may be written; return it as a Path.

    Raises :class:`OutputError` when it is an existing folder, or an existing file and
    ``overwrite`` is False, or when its parent folder does not exist.
    """
    path = Path(path)
    # os.path's checks answer False instead of raising when a parent is not searchable.
    if os.path.isdir(path):
        raise OutputError(f"{path}: is a folder, not a file name")
    if os.path.lexists(path) and not overwrite:
        raise OutputError(f"{path}: already exists (pass overwrite / --overwrite to replace it)")
    if not os.path.isdir(path.parent):
        raise OutputError(f"{path}: the folder {path.parent} does not exist")
    return path


def probe_writable(folder: Path | str) -> None:
    """Raise OutputError (naming ``folder``) unless a file can be created there.

    ``folder`` need not exist yet: its nearest existing ancestor is probed (nothing is created
    but an empty hidden file, removed at once). Long runs call this first so that an unwritable
    or full destination is reported before the work, not after it.
    """
    folder = Path(folder)
    target = folder
    while not os.path.lexists(target) and target.parent != target:
        target = target.parent
    if not os.path.isdir(target):
        raise OutputError(f"{folder}: {target} is not a folder")
    probe = target / f".write-test{_TMP_MARK}{secrets.token_hex(4)}"
    try:
        os.close(os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except OSError as exc:
        raise OutputError(f"{folder}: cannot write there ({_describe(exc)})") from exc
    _unlink_quietly(probe)


def temp_name(path: Path, suffix: str | None = None) -> Path:
    """A hidden sibling name for ``path``, e.g. ``dir/.gaussians.tmp-1a2b3c4d.ply``.

    The extension is kept (``suffix`` overrides it) so writers that pick a format from the
    file name still do the right thing.
    """
    ext = path.suffix if suffix is None else suffix
    stem = path.name[: -len(path.suffix)] if path.suffix else path.name
    return path.with_name(f".{stem}{_TMP_MARK}{secrets.token_hex(4)}{ext}")


@contextlib.contextmanager
def atomic_write(path: Path | str, suffix: str | None = None, *, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temp Path beside ``path``; on success rename it over ``path``.

    The temp file is created empty (reserving the name, mode 0666 minus umask) before it is
    yielded; the body may reopen or replace it. On any exception -- including
    :class:`engine.api.Cancelled` and KeyboardInterrupt -- the temp file is deleted and the
    exception propagates. An OSError about the temp file (disk full, permission denied) is
    turned into a one-line :class:`OutputError` naming ``path``.

    overwrite=False refuses (OutputError) when ``path`` already exists.
    """
    path = Path(path)
    if not overwrite:
        refuse_overwrite(path, overwrite=False)
    if os.path.isdir(path):
        raise OutputError(f"{path}: is a folder, not a file name")
    tmp = _reserve(path, suffix)
    try:
        yield tmp
        if not tmp.exists():
            raise OutputError(f"{path}: the writer produced no file")
        os.replace(tmp, path)
    except OSError as exc:
        _unlink_quietly(tmp)
        if exc.filename is None or str(exc.filename) in (str(tmp), str(path)):
            raise OutputError(f"{path}: cannot write ({_describe(exc)})") from exc
        raise
    except BaseException:
        _unlink_quietly(tmp)
        raise


def _reserve(path: Path, suffix: str | None) -> Path:
    for _ in range(100):
        tmp = temp_name(path, suffix)
        try:
            fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
        except FileExistsError:
            continue
        except OSError as exc:
            if exc.errno == errno.ENOENT and not os.path.isdir(path.parent):
                raise OutputError(f"{path}: the folder {path.parent} does not exist") from exc
            raise OutputError(f"{path}: cannot write ({_describe(exc)})") from exc
        os.close(fd)
        return tmp
    raise OutputError(f"{path}: cannot find a free temporary name in {path.parent}")


def _unlink_quietly(tmp: Path) -> None:
    with contextlib.suppress(OSError):
        tmp.unlink()
