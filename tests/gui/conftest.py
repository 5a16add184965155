"""Fixtures for the window tests: a settings file per test, fake weights, a window factory.

These tests use a fake engine and no OpenGL viewport, so they also run without a display
(Qt's offscreen platform is chosen when DISPLAY is unset).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fakes import FakeFactory


@pytest.fixture
def settings_path(tmp_path: Path) -> Path:
    return tmp_path / "settings" / "facelift-desktop.ini"


@pytest.fixture
def fake_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder that passes engine.weights' cheap presence check, via FACELIFT_WEIGHTS."""
    root = tmp_path / "weights"
    (root / "gslrm").mkdir(parents=True)
    (root / "gslrm" / "ckpt_0000000000021125.pt").write_bytes(b"")
    (root / "mvdiffusion" / "pipeckpts").mkdir(parents=True)
    (root / "mvdiffusion" / "pipeckpts" / "model_index.json").write_text("{}")
    monkeypatch.setenv("FACELIFT_WEIGHTS", str(root))
    return root


@pytest.fixture
def no_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No weights anywhere: empty FACELIFT_WEIGHTS and a user data folder inside tmp."""
    monkeypatch.delenv("FACELIFT_WEIGHTS", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    import imageio.v2 as imageio

    path = tmp_path / "in" / "portrait.png"
    path.parent.mkdir()
    rng = np.random.default_rng(0)
    imageio.imwrite(path, rng.integers(0, 255, (96, 80, 3), dtype=np.uint8))
    return path


@pytest.fixture
def make_window(qtbot, settings_path: Path) -> Iterator[Callable[..., object]]:  # type: ignore[no-untyped-def]
    """Build MainWindows (no GL) on the test's settings file; closes them at the end."""
    from window_factory import window_factory

    with window_factory(qtbot, settings_path) as new_window:

        def make(factory: FakeFactory | None = None, **kwargs: object) -> object:
            return new_window(engine_factory=factory or FakeFactory(**kwargs), use_gl=False)

        yield make
