#!/bin/sh
# Run the demo: sets up everything it needs first (see README).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
sh "$ROOT/scripts/bootstrap.sh"
cd "$ROOT"
exec "$ROOT/.venv/bin/gateway" demo "$@"
