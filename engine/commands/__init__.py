"""One module per ``facelift`` sub-command: each defines ``add_arguments(parser)`` and
``run(args) -> int``. engine/cli.py finds them by name."""

from engine.api import FaceLiftError, NoFaceFound, OutOfMemory


def error_text(exc: FaceLiftError) -> str:
    """An engine error as the CLI prints it: its one line, plus the option to use where the
    engine suggests a setting (an out-of-memory error names ``--memory-preset``, a photo without
    a face ``--no-auto-crop``)."""
    text = str(exc)
    if isinstance(exc, OutOfMemory) and exc.suggested_preset:
        text += f" (--memory-preset {exc.suggested_preset})"
    if isinstance(exc, NoFaceFound):
        text += " (--no-auto-crop)"
    return text
