"""engine/conformance/reference is the reference set, byte for byte (its manifest.json lists every file)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path


def test_conformance_files_match_their_manifest(conformance_dir: Path) -> None:
    manifest = json.loads((conformance_dir / "manifest.json").read_text())
    listed = {entry["path"]: entry for entry in manifest["files"]}
    on_disk = {p.relative_to(conformance_dir).as_posix() for p in conformance_dir.rglob("*") if p.is_file()}
    assert on_disk - {"manifest.json"} == set(listed)
    for path, entry in listed.items():
        data = (conformance_dir / path).read_bytes()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (entry["bytes"], entry["sha256"]), path
    assert sum(entry["bytes"] for entry in listed.values()) == manifest["total_bytes"]
