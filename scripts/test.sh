#!/usr/bin/env bash
# Set up (idempotent) and run the default test suite (offline; slow tests: add `-m slow`).
# Extra arguments go to pytest.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck disable=SC1091
. "$ROOT/scripts/bootstrap.sh"
cd "$ROOT"
ruff check .
exec python -m pytest "$@"
