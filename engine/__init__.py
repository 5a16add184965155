"""FaceLift Desktop engine: preprocessing, the FaceLift and instant engines, rendering, I/O.

No Qt and no VisPy here. Heavy imports (torch, diffusers, mediapipe) happen inside the
modules that need them, never in a package ``__init__``.
"""

from importlib import metadata as _metadata

try:
    __version__ = _metadata.version("facelift-desktop")
except _metadata.PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.1.0"
