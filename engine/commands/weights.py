"""``facelift weights where|verify|download [--dir DIR]``: the FaceLift weights folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.api import CancelToken, ProgressEvent
from engine.commands import error_text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action",
        choices=("where", "verify", "download"),
        help="where: list the places weights are looked for; verify: check every component; "
        "download: fetch the release from Hugging Face (resumable)",
    )
    parser.add_argument(
        "--dir",
        "--weights",
        dest="dir",
        type=Path,
        default=None,
        help="the weights folder (default: --weights, $FACELIFT_WEIGHTS, then the user data folder)",
    )


def run(args: argparse.Namespace) -> int:
    from engine import weights as w

    if args.action == "where":
        return _where(args.dir)
    target = args.dir if args.dir is not None else (w.find_weights() or w.user_weights_dir())
    if args.action == "verify":
        report = w.verify_weights(target)
        print(f"weights folder: {report.root}")
        for line in report.lines():
            print("  " + line)
        if report.overrides:
            print("overrides of the released defaults:")
            for line in report.overrides:
                print("  " + line)
        print(report.summary())
        return 0 if report.ok else 2
    print(w.LICENSE_NOTICE, file=sys.stderr)
    return _download(target)


def _where(explicit: Path | None) -> int:
    from engine import weights as w

    found = w.find_weights(explicit)
    print("FaceLift weights are looked for in this order:")
    for i, loc in enumerate(w.weights_locations(explicit), 1):
        if loc.path is None:
            state = "not set"
        elif loc.present:
            state = "weights present"
        elif loc.path.exists():
            state = "incomplete (run `facelift weights verify`)"
        else:
            state = "does not exist"
        print(f"  {i}. {loc.source:<18} {loc.path if loc.path is not None else '-'}  [{state}]")
    if found is not None:
        print(f"using: {found}")
    else:
        print(error_text(w.missing_weights(explicit)))
        print("`facelift reconstruct` uses the instant engine without them")
    print(w.LICENSE_NOTICE)
    return 0


def _download(target: Path) -> int:
    from tqdm import tqdm

    from engine import weights as w

    bar = tqdm(total=0, unit="B", unit_scale=True, file=sys.stderr, desc="download")

    def on_progress(ev: ProgressEvent) -> None:
        if ev.total and bar.total != ev.total:
            bar.total = ev.total
        if ev.total:
            bar.n = ev.step
        bar.set_postfix_str(ev.message[:60])
        bar.refresh()

    try:
        path = w.download_weights(target, on_progress, CancelToken())
    finally:
        bar.close()
    print(f"weights ready in {path}")
    return 0
