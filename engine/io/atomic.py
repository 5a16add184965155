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

from engine.errors import OutputError

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


class AtomicFile:
    """The push-style form of :func:`atomic_write`, for writers that live across calls (a video
    encoder fed one frame at a time from a GUI timer).

    ``tmp``: a hidden, reserved temp file beside ``path`` to write into. ``commit()`` renames it
    over ``path``; ``discard()`` removes it (an earlier file at ``path`` stays untouched). Exactly
    one of them must be called; both are idempotent after the first.
    overwrite=False refuses (OutputError) when ``path`` already exists.
    """

    def __init__(self, path: Path | str, suffix: str | None = None, *, overwrite: bool = True) -> None:
        self.path = Path(path)
        if not overwrite:
            refuse_overwrite(self.path, overwrite=False)
        if os.path.isdir(self.path):
            raise OutputError(f"{self.path}: is a folder, not a file name")
        self.tmp = _reserve(self.path, suffix)
        self.done = False

    def commit(self) -> Path:
        """Rename the temp file over ``path``; OutputError (temp file removed) when it cannot."""
        if self.done:
            return self.path
        self.done = True
        try:
            if not self.tmp.exists():
                raise OutputError(f"{self.path}: the writer produced no file")
            os.replace(self.tmp, self.path)
        except OSError as exc:
            _unlink_quietly(self.tmp)
            mapped = self.output_error(exc)
            if mapped is None:
                raise
            raise mapped from exc
        except BaseException:
            _unlink_quietly(self.tmp)
            raise
        return self.path

    def discard(self) -> None:
        """Remove the temp file (after an error or a cancel)."""
        self.done = True
        _unlink_quietly(self.tmp)

    def output_error(self, exc: OSError) -> OutputError | None:
        """A one-line OutputError naming ``path`` for an OSError about the temp file or the
        target (disk full, permission denied); None for an OSError about anything else."""
        if exc.filename is None or str(exc.filename) in (str(self.tmp), str(self.path)):
            return OutputError(f"{self.path}: cannot write ({_describe(exc)})")
        return None


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
    target = AtomicFile(path, suffix, overwrite=overwrite)
    try:
        yield target.tmp
    except OSError as exc:
        target.discard()
        mapped = target.output_error(exc)
        if mapped is None:
            raise
        raise mapped from exc
    except BaseException:
        target.discard()
        raise
    target.commit()


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
