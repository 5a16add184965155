#!/usr/bin/env bash
# The whole test suite: lint, format, types, import boundaries, then pytest under Xvfb.
# Creates .venv on first use; installs the Xvfb/Mesa/Qt-xcb system packages when run as root.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/bootstrap.sh
# PACKAGING=1 also runs tests/packaging: build the .deb, install it, use it, remove it (as root).
if [ "${PACKAGING:-}" = 1 ]; then SYSTEM_PACKAGES+=(desktop-file-utils); fi
ensure_system_packages
# cluster: Ray, so tests/cli/test_reconstruct_ray.py runs (without it those tests skip, saying why)
ensure_venv dev,cluster
export PATH="$PWD/.venv/bin:$PATH"

echo "== ruff";           ruff check . && ruff format --check .
echo "== mypy";           mypy
echo "== import-linter";  lint-imports --no-cache
echo "== pytest"
# --durations=10: the ten slowest tests, so a test that grows slow is seen (the suite stays < 10 min).
if [ -z "${DISPLAY:-}" ] && command -v xvfb-run >/dev/null; then
    exec xvfb-run -a -s "-screen 0 1920x1080x24 +extension GLX" python -m pytest --durations=10 "$@"
fi
exec python -m pytest --durations=10 "$@"
