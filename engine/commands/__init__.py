"""One module per ``facelift`` sub-command: each defines ``add_arguments(parser)`` and
``run(args) -> int``. engine/cli.py finds them by name."""

from engine.errors import FaceLiftError, NoFaceFound, NoWeights, OutOfMemory

WEIGHTS_HINT = "`facelift weights download` fetches them, or pass --weights DIR"
"""How to get the FaceLift weights, in the CLI's words (the engine's NoWeights says where it looked)."""


def error_text(exc: FaceLiftError) -> str:
    """An engine error as the CLI prints it: its one line, plus the option to use where the
    engine suggests a setting (an out-of-memory error names ``--memory-preset``, a photo without
    a face ``--no-auto-crop``, missing weights how to get them)."""
    text = str(exc)
    if isinstance(exc, OutOfMemory) and exc.suggested_preset:
        text += f" (--memory-preset {exc.suggested_preset})"
    if isinstance(exc, NoFaceFound):
        text += " (--no-auto-crop)"
    if isinstance(exc, NoWeights):
        text += f"; {WEIGHTS_HINT}"
    return text
