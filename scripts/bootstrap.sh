#!/bin/sh
# Shared set-up for the README commands: system packages, a virtual
# environment in .venv and the project installed into it (editable).
# Usage: . scripts/bootstrap.sh PKG...   (PKG: Debian packages the caller needs)
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV="$ROOT/.venv"

need_debs=""
for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need_debs="$need_debs $pkg"
done
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || {
    echo "circuits needs Python >= 3.11 (python3 is $(python3 --version 2>&1)); install a newer python3" >&2
    exit 1
}
python3 -c 'import venv, ensurepip' 2>/dev/null || need_debs="$need_debs python3-venv"
if [ -n "$need_debs" ]; then
    if [ "$(id -u)" = 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO=none; fi
    if [ "$SUDO" = none ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "Missing system packages:$need_debs" >&2
        echo "Install them (e.g. sudo apt-get install$need_debs) and run this command again." >&2
        exit 1
    fi
    echo "Installing system packages:$need_debs" >&2
    $SUDO apt-get update -qq >&2 || true
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $need_debs >&2
fi

# Reinstall only when pyproject.toml changed since the last install.
stamp="$VENV/.installed-$(cksum < "$ROOT/pyproject.toml" | cut -d' ' -f1)"
if [ ! -f "$stamp" ]; then
    [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip >"$VENV/pip.log" 2>&1 || { cat "$VENV/pip.log" >&2; exit 1; }
    "$VENV/bin/python" -m pip install -q -e "$ROOT[test]" >"$VENV/pip.log" 2>&1 || { cat "$VENV/pip.log" >&2; exit 1; }
    rm -f "$VENV"/.installed-*
    touch "$stamp"
fi
