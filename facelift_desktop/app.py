"""Entry point of the desktop app: ``facelift-desktop [PHOTO] [--screenshot OUT.png] [--quit] [--self-test]``.

PHOTO opens and reconstructs the photo with the default engine (FaceLift when its weights
are found, otherwise Instant). ``--screenshot`` saves the window once the result is shown;
``--quit`` exits then (automation, docs). ``--self-test`` runs the packaging self-test.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import sys
from pathlib import Path

from engine.settings import ENGINE_NAMES


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="facelift-desktop", description="FaceLift Desktop: one photo -> a 3D head."
    )
    parser.add_argument("photo", nargs="?", help="a portrait photo to open and reconstruct")
    parser.add_argument("--screenshot", metavar="OUT.png", help="save the window once the result is shown")
    parser.add_argument("--quit", action="store_true", help="exit after the result (and screenshot)")
    parser.add_argument("--self-test", action="store_true", help="check the installation and exit")
    parser.add_argument("--engine", choices=ENGINE_NAMES, help="engine for PHOTO (default: saved choice)")
    parser.add_argument("--size", default="1600x1000", help="window size WxH (default 1600x1000)")
    return parser.parse_args(argv)


def run_self_test() -> int:
    try:
        module = importlib.import_module("facelift_desktop.selftest")
    except ImportError:
        print("facelift-desktop --self-test: not available yet", file=sys.stderr)
        return 2
    return int(module.run_self_test())


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.self_test:
        return run_self_test()
    if args.photo is not None and not Path(args.photo).is_file():
        print(f"facelift-desktop: {args.photo}: file not found", file=sys.stderr)
        return 2

    from viewer.canvas import configure_vispy

    configure_vispy()
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from facelift_desktop.main_window import MainWindow
    from facelift_desktop.theme import apply_theme

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("FaceLift Desktop")
    app.setOrganizationName("FaceLift")
    apply_theme(app)  # type: ignore[arg-type]
    window = MainWindow()
    window.modal_dialogs = not args.quit
    try:
        w, h = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        w, h = 1600, 1000
    window.resize(w, h)
    window.show()
    exit_code = 0

    def finish(ok: bool) -> None:
        nonlocal exit_code
        if args.screenshot:
            window.settle_gpu_check()  # the screenshot shows the status bar's GPU line
            window.grab_screenshot(args.screenshot)
        if not ok:
            exit_code = 1
        if args.quit:
            window.close()
            app.quit()

    if args.photo is not None:
        if args.engine is not None:
            params = window.parameters_panel.parameters()
            config = dataclasses.replace(params.config, engine=args.engine)
            window.parameters_panel.set_parameters(dataclasses.replace(params, config=config))
        window.run_finished.connect(lambda _r: QTimer.singleShot(300, lambda: finish(True)))

        def failed(failure: object) -> None:
            print(f"facelift-desktop: {getattr(failure, 'reason', failure)}", file=sys.stderr)
            QTimer.singleShot(0, lambda: finish(False))

        window.run_failed.connect(failed)
        window.run_cancelled.connect(lambda: QTimer.singleShot(0, lambda: finish(False)))

        def start() -> None:
            if not window.open_photo(args.photo) or not window.reconstruct():
                finish(False)

        QTimer.singleShot(0, start)
    elif args.screenshot or args.quit:
        QTimer.singleShot(500, lambda: finish(True))
    code = app.exec()
    window.shutdown()
    return exit_code or int(code)
