"""A stand-in for ``losslab fit`` in runner tests: behaves according to the cell id in ``--wandb.name``.

``fit --resume RUN_DIR`` reads the cell id from RUN_DIR/grid_cell.json. FAKE_FIT_LOG: append
"<cell id> <pid> fresh|resume" to this file. FAKE_FIT_FAIL: cell ids (comma-separated) that exit 3
with a message on stderr. FAKE_FIT_KILL: cell ids that kill themselves with SIGKILL. FAKE_FIT_SLEEP: seconds
to work before writing metrics.json.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    resume = "--resume" in argv
    if resume:
        run_dir = Path(argv[argv.index("--resume") + 1])
        cell_id = json.loads((run_dir / "grid_cell.json").read_text())["cell_id"]
    else:
        run_dir = Path(argv[argv.index("--run_dir") + 1])
        cell_id = argv[argv.index("--wandb.name") + 1]
    if "FAKE_FIT_LOG" in os.environ:
        with open(os.environ["FAKE_FIT_LOG"], "a", encoding="utf-8") as log:
            log.write(f"{cell_id} {os.getpid()} {'resume' if resume else 'fresh'}\n")
    (run_dir / "partial.txt").write_text("started")
    time.sleep(float(os.environ.get("FAKE_FIT_SLEEP", "0")))
    if cell_id in os.environ.get("FAKE_FIT_KILL", "").split(","):
        os.kill(os.getpid(), signal.SIGKILL)
    if cell_id in os.environ.get("FAKE_FIT_FAIL", "").split(","):
        print(f"losslab: error: {cell_id} is broken", file=sys.stderr)
        return 3
    (run_dir / "metrics.json").write_text(json.dumps({"wall_time_s": 1.5, "test": {}}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
