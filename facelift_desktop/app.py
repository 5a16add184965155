"""Entry point of the desktop app (``facelift-desktop``)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    print(
        "facelift-desktop: the desktop window is not available yet in this build; "
        "use the command line: ./run.sh --cli --help",
        file=sys.stderr,
    )
    return 2
