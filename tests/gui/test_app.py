"""``facelift-desktop`` command line: --self-test hand-off, bad input, --screenshot --quit."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import pytest

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


DRIVER = """
import sys
sys.path.insert(0, {fakes!r})
import os
from fakes import FakeFactory
from engine.api import FaceLiftError
from facelift_desktop import app, worker
fail = os.environ.get("FAKE_FAIL")
worker.default_engine_factory = FakeFactory(count=5000, fail_with=FaceLiftError(fail) if fail else None)
sys.exit(app.main(sys.argv[1:]))
"""


@pytest.mark.gl
@pytest.mark.skipif(not os.environ.get("DISPLAY"), reason="needs an X display with OpenGL (xvfb-run)")
def test_photo_screenshot_quit(tmp_path, photo) -> None:  # type: ignore[no-untyped-def]
    """The real entry point in its own process (it runs and quits its own Qt event loop)."""
    import subprocess
    import sys

    import imageio.v3 as iio

    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER.format(fakes=str(Path(__file__).resolve().parent)))
    out = tmp_path / "shot.png"
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config"), "FACELIFT_WEIGHTS": ""}
    args = [str(photo), "--engine", "instant", "--screenshot", str(out), "--quit", "--size", "1400x900"]
    proc = subprocess.run(
        [sys.executable, str(driver), *args], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    shot = iio.imread(out)
    assert shot.shape[:2] == (900, 1400)
    assert Path(out).stat().st_size > 10_000


@pytest.mark.gl
@pytest.mark.skipif(not os.environ.get("DISPLAY"), reason="needs an X display with OpenGL (xvfb-run)")
def test_a_failed_run_with_quit_prints_the_reason_and_exits_1(tmp_path, photo) -> None:  # type: ignore[no-untyped-def]
    import subprocess
    import sys

    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER.format(fakes=str(Path(__file__).resolve().parent)))
    env = {
        **os.environ,
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "FACELIFT_WEIGHTS": "",
        "FAKE_FAIL": "portrait.png: no face found",
    }
    proc = subprocess.run(
        [sys.executable, str(driver), str(photo), "--engine", "instant", "--quit"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert "facelift-desktop: portrait.png: no face found" in proc.stderr
