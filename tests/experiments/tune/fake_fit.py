"""A stand-in for ``losslab fit`` in trial-runner tests: logs a validation curve, then finishes or fails.

``python fake_fit.py --run_dir DIR`` with ``FAKE_FIT_CURVE`` (comma-separated values), ``FAKE_FIT_MODE``
(``finish`` or ``fail``) and ``FAKE_FIT_PAUSE_S`` (seconds between validations).
"""

import json
import os
import signal
import sys
import time
from pathlib import Path

run_dir = Path(sys.argv[sys.argv.index("--run_dir") + 1])
curve = [float(v) for v in os.environ["FAKE_FIT_CURVE"].split(",")]
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # as losslab fit: stopped at a step boundary
with open(run_dir / "metrics.csv", "w", encoding="utf-8") as history:
    history.write("step,train/loss,val/score\n")
    for step, value in enumerate(curve):
        history.write(f"{step},1.0,\n{step},,{value}\n")
        history.flush()
        time.sleep(float(os.environ.get("FAKE_FIT_PAUSE_S", "0.2")))
if os.environ.get("FAKE_FIT_MODE") == "fail":
    print("Traceback: something broke", file=sys.stderr)
    sys.exit(1)
(run_dir / "metrics.json").write_text(json.dumps({"best_val": max(curve)}))
