#!/usr/bin/env bash
# Build the one-folder PyInstaller bundle: dist/facelift-desktop/ (CPU torch from .venv).
#
#   packaging/build_bundle.sh            incremental: reuses build/pyinstaller (the analysis cache)
#   packaging/build_bundle.sh --clean    from scratch
#
# Runs niced: freezing torch + mediapipe + PySide6 keeps two cores busy for several minutes.
# Prints the bundle size and the build time at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
if [ ! -x "$PY" ]; then
    source scripts/bootstrap.sh
    ensure_venv dev
    PY="$ROOT/.venv/bin/python"
fi

extra=()
if [ "${1:-}" = "--clean" ]; then
    extra+=(--clean)
    rm -rf build/pyinstaller dist/facelift-desktop
fi

# The icon is generated (deterministic) if it is missing.
[ -f resources/icons/facelift-desktop.png ] || "$PY" packaging/make_icon.py

start=$(date +%s)
nice -n 10 "$PY" -m PyInstaller --noconfirm --log-level WARN \
    --workpath build/pyinstaller --distpath dist "${extra[@]}" packaging/facelift.spec
end=$(date +%s)

size=$(du -sh dist/facelift-desktop | cut -f1)
echo "bundle: dist/facelift-desktop ($size) built in $((end - start)) s"
