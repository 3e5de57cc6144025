#!/bin/sh
# Run the whole test suite: sets up everything it needs first (see README).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
sh "$ROOT/scripts/bootstrap.sh" socat mosquitto chromium chromium-driver
cd "$ROOT"
exec "$ROOT/.venv/bin/python" -m pytest "$@"
