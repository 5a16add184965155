# Sourced by run.sh and test.sh: make .venv with everything installed, once.
# A second run only checks a stamp (the hash of pyproject.toml) and returns at once.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

find_python() {
    for cand in python3.11 python3 python; do
        if command -v "$cand" >/dev/null 2>&1 &&
            "$cand" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' 2>/dev/null; then
            echo "$cand"; return 0
        fi
    done
    echo "FaceLift Desktop needs Python 3.11 (python3.11 was not found)" >&2
    return 1
}

ensure_venv() {
    local extras="${1:-}"
    local hash stamp
    hash="$(sha256sum "$ROOT/pyproject.toml" | cut -c1-16)"
    stamp="$VENV/installed-$hash${extras:+-$extras}"
    # Done already: this exact install, or (for the plain one) an install with extras, which
    # includes it -- so ./run.sh after ./test.sh does not reinstall, nor the other way round.
    if [ -f "$stamp" ] || { [ -z "$extras" ] && compgen -G "$VENV/installed-$hash-*" >/dev/null; }; then
        return 0
    fi
    if [ -L "$VENV" ] && [ -x "$VENV/bin/python" ]; then
        # A link to another checkout's environment (git worktrees share one): installing here
        # would point its editable install at this checkout. Leave it to its owner.
        echo "note: $VENV links to $(readlink -f "$VENV"); not reinstalling into it" >&2
        return 0
    fi
    if [ ! -x "$VENV/bin/python" ]; then
        echo "== creating $VENV"
        "$(find_python)" -m venv "$VENV"
    fi
    echo "== installing FaceLift Desktop${extras:+ [$extras]} into $VENV (first run only)"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    # torch first, so nothing that depends on it picks another build. Which build pip takes is
    # up to its configuration (a CPU wheel where one is offered); FACELIFT_TORCH_INDEX can name
    # an index, e.g. PyTorch's CPU-only one, to avoid the large CUDA wheel on a CPU machine.
    "$VENV/bin/python" -m pip install --quiet ${FACELIFT_TORCH_INDEX:+--index-url "$FACELIFT_TORCH_INDEX"} "torch==2.13.0"
    "$VENV/bin/python" -m pip install --quiet -e "$ROOT${extras:+[$extras]}"
    # stamps of an older pyproject.toml are stale; stamps of this one stay
    find -H "$VENV" -maxdepth 1 -name 'installed-*' ! -name "installed-$hash*" -delete
    touch "$stamp"
}

# Debian packages the GUI and the OpenGL tests need (X virtual framebuffer, Mesa, Qt's xcb).
SYSTEM_PACKAGES=(xvfb xauth libgl1 libgl1-mesa-dri libegl1 libglib2.0-0 libfontconfig1 libdbus-1-3
    libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0
    libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libxcb-xfixes0 libxrender1 libxi6)

ensure_system_packages() {
    local missing=()
    for pkg in "${SYSTEM_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
        echo "== installing system packages: ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        echo "warning: missing system packages (install them as root): ${missing[*]}" >&2
    fi
}
