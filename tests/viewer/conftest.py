"""GL tests need a real X display with GLX (Xvfb + Mesa); VisPy cannot use Qt's offscreen platform."""

from __future__ import annotations

import os

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("DISPLAY"):
        return
    skip = pytest.mark.skip(reason="needs an X display with OpenGL: run under xvfb-run (./test.sh does)")
    for item in items:
        if "gl" in item.keywords:
            item.add_marker(skip)
