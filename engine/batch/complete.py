"""When is a photo's output folder complete? A marker written last says so.

``facelift reconstruct`` stages every file of a photo in a hidden folder and moves them into
``OUT/<name>`` together (engine.outputs.write_outputs). The last file it moves is
:data:`MARKER` (``.facelift-complete.json``): the photo, what was asked of it and the size of
every file written. A folder is complete for a command when its marker

* parses and lists the same settings (engine asked for, seed, guidance, steps, crop mode,
  turntable, render size, extra formats) and the same input (path and byte size), and
* every file it lists is there with the size it had when written.

So a folder that a crash, a killed worker or a full disk left half replaced (its old marker is
removed before the first file is replaced), outputs made with other settings, and folders from
a build without markers all count as not complete, and ``--resume`` redoes them. Checking is a
few ``stat`` calls per photo: cheap on shared storage with 10 000 photos.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

MARKER = ".facelift-complete.json"
MARKER_VERSION = 1


def input_record(photo: Path) -> dict[str, Any]:
    """What identifies the input photo in a marker: its path (as given) and byte size."""
    try:
        size = photo.stat().st_size
    except OSError:
        size = -1
    return {"path": str(photo), "bytes": size}


def marker_payload(settings: Mapping[str, Any], photo: Path, files: Mapping[str, int]) -> dict[str, Any]:
    """The marker's JSON object: version, settings, input and {file name: bytes}."""
    return {
        "version": MARKER_VERSION,
        "settings": dict(settings),
        "input": input_record(photo),
        "files": dict(sorted(files.items())),
    }


def write_marker(folder: Path, settings: Mapping[str, Any], photo: Path) -> Path:
    """Write MARKER into ``folder`` (a staging folder) listing every other file in it."""
    files = {p.name: p.stat().st_size for p in folder.iterdir() if p.is_file() and p.name != MARKER}
    path = folder / MARKER
    path.write_text(json.dumps(marker_payload(settings, photo, files), indent=1) + "\n")
    return path


def read_marker(folder: Path) -> dict[str, Any] | None:
    """The marker of ``folder`` as a dict, or None when absent or unreadable."""
    try:
        data = json.loads((folder / MARKER).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def is_complete(folder: Path, settings: Mapping[str, Any], photo: Path) -> bool:
    """True when ``folder`` holds the complete outputs of ``photo`` made with ``settings``."""
    data = read_marker(folder)
    if data is None or data.get("version") != MARKER_VERSION:
        return False
    # a JSON round trip so that tuples compare equal to the lists the marker holds
    if data.get("settings") != json.loads(json.dumps(dict(settings))):
        return False
    if data.get("input") != input_record(photo):
        return False
    files = data.get("files")
    if not isinstance(files, dict) or not files:
        return False
    for name, size in files.items():
        try:
            if os.stat(folder / name).st_size != size:
                return False
        except OSError:
            return False
    return True
