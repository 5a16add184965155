"""The conformance fixtures that ship with the app (a few MB), for ``facelift doctor`` and the tests.

``reference/`` is FaceLift's conformance set, byte for byte (its README.md says how it was made
with the reference code; manifest.json lists every file with its SHA-256): tiny random networks
in the release's weights layout, their inputs, and the outputs the reference code computed.
``render_expected.npz`` is ours: the reference Gaussians of that set drawn from three cameras by
the 3DGS algorithm (made by scripts/make_render_expectation.py in float32; the tests check it
against an independent numpy transcription of 3DGS).

The folder is package data (pyproject.toml), and the PyInstaller spec copies it into the bundle,
so an installed app finds it beside this module.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
REFERENCE_DIR = HERE / "reference"
RENDER_EXPECTED = HERE / "render_expected.npz"


def reference_dir() -> Path:
    """FaceLift's conformance set (also usable as a tiny weights folder)."""
    return REFERENCE_DIR
