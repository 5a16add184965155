"""The ``facelift`` command line.

Sub-commands live in ``engine/commands/<name>.py`` (``add_arguments`` + ``run``); only the one
named on the command line is imported, so ``--help`` and ``--version`` start at once.

Errors the engine raises on purpose (:class:`engine.api.FaceLiftError`) are printed as one
line, without a traceback; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import signal
import sys
import threading
import traceback
from collections.abc import Iterable, Iterator, Sequence
from types import FrameType, ModuleType

from engine import __version__
from engine.commands import error_text
from engine.errors import Cancelled, FaceLiftError

COMMANDS: dict[str, str] = {
    "reconstruct": "photo(s) -> 3D Gaussian head: input.png, gaussians.ply, output.png, turntable.mp4",
    "multiview": "photo -> the generated views (FaceLift diffusion; the model folder's views)",
    "lrm": "six views -> Gaussians PLY (GS-LRM)",
    "render": "render a Gaussian PLY to MP4, GIF or PNG",
    "export": "a head (Gaussians file or reconstruction folder) -> PLY, compressed PLY, SPZ, .splat, GLB or OBJ",
    "weights": "where the FaceLift weights are looked for; verify; download",
    "animate": "drive a head with a face video or photo: head pose and expression -> MP4",
    "doctor": "check this computer: GPU, libraries, and FaceLift's networks against the reference",
}

# FaceLift's inference.py flags, accepted when no sub-command is named.
_REFERENCE_FLAGS = ("-i", "--input_dir", "--output_dir", "--guidance_scale_2D", "--step_2D", "--auto_crop")


class Terminated(BaseException):
    """SIGTERM arrived (``kill PID``, a session ending). A BaseException like KeyboardInterrupt,
    so ``except Exception`` does not swallow it and every ``finally`` / atomic writer on the way
    out removes its temporary file, as Ctrl+C does."""


@contextlib.contextmanager
def _sigterm_raises() -> Iterator[None]:
    """While the command runs, SIGTERM raises :class:`Terminated` in the main thread (Python's
    default is to die at once, leaving temp files behind). Later SIGTERMs are ignored so the
    clean-up is not cut short (SIGKILL still ends the process). The earlier handler is restored."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise Terminated

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _load_command(name: str) -> ModuleType:
    """The module of sub-command ``name`` (``engine/commands/<name>.py``)."""
    return importlib.import_module(f"engine.commands.{name}")


def _chosen_command(argv: Sequence[str]) -> str | None:
    """The sub-command named on the command line (the first word that is not an option)."""
    for word in argv:
        if word == "--":
            return None
        if not word.startswith("-"):
            return word if word in COMMANDS else None
    return None


def build_parser(load: Iterable[str] | None = None) -> argparse.ArgumentParser:
    """The ``facelift`` parser. Only the sub-commands in ``load`` (all when None) import
    their modules, so ``facelift --version`` and ``--help`` start without the heavy ones."""
    wanted = set(COMMANDS if load is None else load)
    parser = argparse.ArgumentParser(
        prog="facelift",
        description="FaceLift Desktop: one portrait photo -> a 3D Gaussian-splat head.",
    )
    parser.add_argument("--version", action="version", version=f"facelift {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        module = _load_command(name) if name in wanted else None
        p = sub.add_parser(name, help=help_text, description=help_text)
        # SUPPRESS: without it the sub-parser's default False would hide `facelift --debug CMD`.
        p.add_argument(
            "--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks on errors"
        )
        if module is not None:
            module.add_arguments(p)
            p.set_defaults(_run=module.run)
    return parser


def _normalise_argv(argv: list[str]) -> list[str]:
    """``facelift -i DIR -o DIR ...`` (inference.py style) means ``facelift reconstruct ...``."""
    if argv and argv[0].startswith("-") and any(a.split("=")[0] in _REFERENCE_FLAGS for a in argv):
        return ["reconstruct", *argv]
    return argv


def main(argv: Sequence[str] | None = None) -> int:
    args_list = _normalise_argv(list(sys.argv[1:] if argv is None else argv))
    chosen = _chosen_command(args_list)
    try:
        parser = build_parser(load=[chosen] if chosen else [])
    except Exception as exc:  # a sub-command module that fails to import is a bug; say which
        if "--debug" in args_list:
            traceback.print_exc()
        print(f"facelift {chosen}: cannot load this command ({type(exc).__name__}: {exc})", file=sys.stderr)
        return 1
    args = parser.parse_args(args_list)
    if not args.command:
        parser.print_help()
        return 2
    try:
        with _sigterm_raises():
            return int(args._run(args) or 0)
    except Terminated:
        print("facelift: terminated", file=sys.stderr)
        return 128 + signal.SIGTERM
    except Cancelled as exc:
        print(f"facelift: cancelled: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("facelift: interrupted", file=sys.stderr)
        return 130
    except FaceLiftError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"facelift: error: {error_text(exc)}", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:  # a bug: still one line on the terminal, the traceback behind --debug
        if args.debug:
            traceback.print_exc()
        detail = " ".join(f"{type(exc).__name__}: {exc}".split())
        print(
            f"facelift: error: {args.command}: unexpected failure ({detail}); run with --debug for details",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
