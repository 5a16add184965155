"""Entry script of the frozen bundle: one program, two commands.

Started as ``facelift`` (the name the bundle's ``facelift`` symlink, ``/usr/bin/facelift`` or, on
Windows/macOS, the separate ``facelift`` executable carries) it is the command line; under any
other name it is the desktop app. One executable keeps the bundle from carrying the whole Python
archive twice.
"""

from __future__ import annotations

import multiprocessing
import os
import sys

CLI_NAMES = frozenset({"facelift", "facelift.exe"})


def _invoked_as_cli(argv0: str) -> bool:
    return os.path.basename(argv0).lower() in CLI_NAMES


def main() -> int:
    multiprocessing.freeze_support()
    if os.environ.get("FACELIFT_GL_PROBE") == "1":  # `facelift doctor` asks for the OpenGL facts
        from facelift_desktop.gl_probe import main as gl_probe_main

        return gl_probe_main()
    if _invoked_as_cli(sys.argv[0] if sys.argv else ""):
        from engine.cli import main as cli_main

        return cli_main()
    from facelift_desktop.app import main as app_main

    return int(app_main() or 0)


if __name__ == "__main__":
    sys.exit(main())
