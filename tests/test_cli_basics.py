import subprocess
import sys

from engine import __version__
from engine.cli import main


def test_version_flag_prints_version(capsys):
    try:
        main(["--version"])
    except SystemExit as exc:
        assert exc.code == 0
    assert __version__ in capsys.readouterr().out


def test_engine_import_pulls_in_no_gui_toolkit():
    code = (
        "import sys, engine.cli, engine.gaussians, engine.cameras, engine.api, engine.engines, engine.outputs\n"
        "bad = [m for m in ('PySide6', 'vispy', 'pyqtgraph') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
