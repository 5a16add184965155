#!/usr/bin/env bash
# Run FaceLift Desktop.
#   ./run.sh [PHOTO]       the desktop app (opens and reconstructs PHOTO if given)
#   ./run.sh --cli ARGS    the `facelift` command line, e.g. ./run.sh --cli reconstruct me.jpg -o out
# With no display, ./run.sh [PHOTO] reconstructs PHOTO (default: the bundled sample portrait)
# headless and says where the results are. Creates .venv on first use.
# Paths in the arguments are taken relative to the folder you run it from.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$ROOT/scripts/bootstrap.sh"
ensure_venv
export PATH="$ROOT/.venv/bin:$PATH"

if [ "${1:-}" = "--cli" ]; then
    shift
    exec facelift "$@"
fi
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] &&
    { [ $# -eq 0 ] || { [ $# -eq 1 ] && [ "${1#-}" = "$1" ]; }; }; then
    photo="${1:-$ROOT/resources/samples/astronaut.png}"
    name="$(basename "$photo")"
    out="$ROOT/outputs"
    echo "No display found: reconstructing $photo headless."
    facelift reconstruct "$photo" -o "$out" --overwrite
    echo "Results: $out/${name%.*}/ (input.png, gaussians.ply, output.png, turntable.mp4)"
    exit 0
fi
exec python "$ROOT/main.py" "$@"
