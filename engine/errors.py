"""The errors the engine raises on purpose. Each carries a one-line, user-facing message.

Plain Python, imports nothing from the engine, so every module (settings, api, gaussians, the
engines) can raise them without an import cycle.
"""

from __future__ import annotations


class FaceLiftError(Exception):
    """Base of every error the engine raises on purpose.

    ``str(err)`` is a single line meant for a user: it names the file (when there is one)
    and the problem. Details for a log go in ``details``.
    """

    exit_code: int = 2

    def __init__(self, message: str, *, details: str = "") -> None:
        one_line = " ".join(str(message).split())
        super().__init__(one_line)
        self.message = one_line
        self.details = details


class InputError(FaceLiftError):
    """The user's input (photo, PLY, view images, arguments) is unusable."""


class NoFaceFound(InputError):
    """Auto-crop found no face in the photo; running without auto-crop may still work."""


class WeightsError(FaceLiftError):
    """Model weights are missing, incomplete, corrupt or of the wrong shape."""


class NoWeights(WeightsError):
    """No FaceLift weights folder was found anywhere they are looked for.

    The message says where they were looked for; the CLI and the GUI each add how to get them
    (``facelift weights download`` / Tools → FaceLift weights…).
    """


class Cancelled(FaceLiftError):
    """The run was cancelled through its CancelToken. Not a failure."""

    exit_code = 130


class OutOfMemory(FaceLiftError):
    """The device ran out of memory; the message suggests a lower memory preset.

    ``suggested_preset``: the lower memory preset to try (a name in
    engine.settings.MEMORY_PRESETS), or None when there is none; the CLI and the GUI each say
    how to pick it.
    """

    def __init__(self, message: str, *, details: str = "", suggested_preset: str | None = None) -> None:
        super().__init__(message, details=details)
        self.suggested_preset = suggested_preset


class OutputError(FaceLiftError):
    """An output could not be written (permissions, disk full, existing file)."""
