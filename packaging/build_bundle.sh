#!/usr/bin/env bash
# Build the one-folder PyInstaller bundle: dist/facelift-desktop/ (CPU torch from .venv).
#
#   packaging/build_bundle.sh            incremental: reuses build/pyinstaller (the analysis cache)
#   packaging/build_bundle.sh --clean    from scratch
#
# FACELIFT_VARIANT=cuda PYTHON=build/venv-cuda/bin/python (what packaging/build_deb.py --cuda
# runs): the CUDA bundle, dist/cuda/facelift-desktop/, with its own cache build/pyinstaller-cuda.
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

VARIANT="${FACELIFT_VARIANT:-cpu}"
case "$VARIANT" in
    cpu) WORK=build/pyinstaller; DIST=dist ;;
    cuda) WORK=build/pyinstaller-cuda; DIST=dist/cuda ;;
    *) echo "build_bundle.sh: FACELIFT_VARIANT must be cpu or cuda, not '$VARIANT'" >&2; exit 2 ;;
esac
export FACELIFT_VARIANT="$VARIANT"

extra=()
if [ "${1:-}" = "--clean" ]; then
    extra+=(--clean)
    rm -rf "$WORK" "$DIST/facelift-desktop"
fi

# The icon is generated (deterministic) if it is missing.
[ -f resources/icons/facelift-desktop.png ] || "$PY" packaging/make_icon.py

start=$(date +%s)
nice -n 10 "$PY" -m PyInstaller --noconfirm --log-level WARN \
    --workpath "$WORK" --distpath "$DIST" "${extra[@]}" packaging/facelift.spec
end=$(date +%s)

size=$(du -sh "$DIST/facelift-desktop" | cut -f1)
echo "bundle: $DIST/facelift-desktop ($VARIANT, $size) built in $((end - start)) s"
