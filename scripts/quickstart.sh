#!/usr/bin/env bash
# Set up (idempotent) and run the main job: fine-tune all-MiniLM-L6-v2 with CoSENT on STS Benchmark,
# evaluate with MTEB (STSBenchmark, SICK-R) before and after. Extra arguments go to `losslab fit`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck disable=SC1091
. "$ROOT/scripts/bootstrap.sh"
cd "$ROOT"
# Everything the quickstart needs is local (embedded model, data directory): never wait on the Hub.
export HF_HUB_OFFLINE="${HF_HUB_OFFLINE:-1}"
exec losslab fit --config experiments/configs/quickstart.yaml "$@"
