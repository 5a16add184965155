"""``python main.py [PHOTO]`` starts the desktop app (same as ``facelift-desktop``)."""

import sys

from facelift_desktop.app import main

if __name__ == "__main__":
    sys.exit(main())
