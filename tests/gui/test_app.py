"""``facelift-desktop`` command line: --self-test hand-off, bad input, --screenshot --quit."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import pytest
from fakes import FakeFactory

from facelift_desktop import app


def test_self_test_missing_module_says_not_available(monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    real = importlib.import_module

    def fake_import(name: str, *args: object):  # type: ignore[no-untyped-def]
        if name == "facelift_desktop.selftest":
            raise ImportError(name)
        return real(name, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(importlib, "import_module", fake_import)
    assert app.main(["--self-test"]) == 2
    assert "not available yet" in capsys.readouterr().err


def test_self_test_runs_the_packaging_self_test(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import facelift_desktop.selftest as selftest

    monkeypatch.setattr(selftest, "run_self_test", lambda: 0)
    assert app.main(["--self-test"]) == 0


def test_a_missing_photo_is_one_line_exit_2(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert app.main([str(tmp_path / "nope.jpg"), "--quit"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "nope.jpg: file not found" in err


@pytest.mark.gl
@pytest.mark.skipif(not os.environ.get("DISPLAY"), reason="needs an X display with OpenGL (xvfb-run)")
def test_photo_screenshot_quit(qapp, monkeypatch, tmp_path, photo, no_weights) -> None:  # type: ignore[no-untyped-def]
    import imageio.v3 as iio
    from PySide6.QtCore import QSettings

    from facelift_desktop import worker

    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path / "qsettings"))
    monkeypatch.setattr(worker, "default_engine_factory", FakeFactory(count=5000))
    out = tmp_path / "shot.png"
    assert app.main([str(photo), "--engine", "instant", "--screenshot", str(out), "--quit", "--size", "1400x900"]) == 0
    shot = iio.imread(out)
    assert shot.shape[:2] == (900, 1400)
    assert Path(out).stat().st_size > 10_000
