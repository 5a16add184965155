#!/usr/bin/env bash
# Run FaceLift Desktop.
#   ./run.sh [PHOTO]       the desktop app (opens and reconstructs PHOTO if given)
#   ./run.sh --cli ARGS    the `facelift` command line, e.g. ./run.sh --cli reconstruct me.jpg -o out
# With no display, ./run.sh reconstructs the bundled sample portrait headless and says where
# the results are. Creates .venv on first use.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/bootstrap.sh
ensure_venv
export PATH="$PWD/.venv/bin:$PATH"

if [ "${1:-}" = "--cli" ]; then
    shift
    exec facelift "$@"
fi
if [ $# -eq 0 ] && [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
    out="$PWD/outputs/sample"
    echo "No display found: reconstructing the bundled sample portrait headless."
    facelift reconstruct resources/samples/astronaut.png -o "$out" --overwrite
    echo "Results: $out/astronaut/ (input.png, gaussians.ply, output.png, turntable.mp4)"
    exit 0
fi
exec python main.py "$@"
