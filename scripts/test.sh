#!/usr/bin/env bash
# Set up (idempotent) and run the default test suite: offline, including the `slurm` tests (they start the
# private cluster of scripts/slurm_cluster.sh; root). Slow tests: add `-m slow`. Extra arguments go to pytest
# (a later `-m` replaces this one).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck disable=SC1091
. "$ROOT/scripts/bootstrap.sh"
cd "$ROOT"
ruff check .
ruff format --check .
exec python -m pytest -m "not slow and not network and not gpu" "$@"
