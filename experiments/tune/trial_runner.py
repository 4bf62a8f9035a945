"""Run one trial as a plain ``losslab fit`` process, feeding its validation curve to Optuna's pruner."""

from __future__ import annotations

import csv
import ctypes
import json
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import optuna
from optuna.trial import TrialState

from experiments.exit_codes import INTERRUPTED

PROGRAM = (sys.executable, "-m", "experiments.cli")
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # Linux: the fit gets SIGTERM when its worker dies (kill -9), instead of training on as an orphan whose
    # trial the next worker marks failed. Elsewhere, nothing.
    try:
        ctypes.CDLL("libc.so.6").prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


POLL_S = 1.0


@dataclass(frozen=True)
class TrialResult:
    """How a trial ended.

    Args:
        state: ``COMPLETE``, ``PRUNED`` or ``FAIL``.
        value: The objective (the run's best validation value) of a complete trial.
        error: The last lines of a failed trial's standard error.
    """

    state: TrialState
    value: float | None = None
    error: str = ""


def validation_curve(run_dir: Path, metric: str) -> list[float]:
    """The values of ``metric`` logged so far, in order, from the run's ``metrics.csv``."""
    path = run_dir / "metrics.csv"
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as handle:
        return [float(row[metric]) for row in csv.DictReader(handle) if row.get(metric)]


def run_trial(
    args: Sequence[str],
    run_dir: Path,
    trial: optuna.Trial,
    metric: str,
    program: Sequence[str] = PROGRAM,
    poll_s: float = POLL_S,
) -> TrialResult:
    """Run ``losslab <args>`` in its own process; report each validation to ``trial``; stop it when pruned.

    The fit is a normal run directory (and W&B run); it knows nothing of Optuna. Each new value of
    ``metric`` in its history is reported at step = its validation index; when the pruner says so the fit
    gets SIGTERM, stops at the next step boundary, and its checkpoints are removed (a pruned trial is never
    resumed or evaluated). A fit that finished before the signal took effect counts as complete.

    Args:
        args: ``losslab`` arguments (``fit ... --run_dir run_dir``).
        run_dir: The trial's run directory (logs go there too).
        trial: The Optuna trial the values are reported to.
        metric: The objective, ``val/<name>``.
        program: The command in front of ``args``.
        poll_s: Seconds between looks at the history.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    reported = 0
    pruned = False
    with open(run_dir / "stdout.log", "wb") as stdout, open(run_dir / "stderr.log", "wb") as stderr:
        process = subprocess.Popen([*program, *args], stdout=stdout, stderr=stderr, preexec_fn=_die_with_parent)
        try:
            while process.poll() is None or reported < len(validation_curve(run_dir, metric)):
                curve = validation_curve(run_dir, metric)
                for step in range(reported, len(curve)):
                    trial.report(curve[step], step)
                    reported = step + 1
                    if not pruned and process.poll() is None and trial.should_prune():
                        pruned = True
                        process.send_signal(signal.SIGTERM)
                if process.poll() is None:
                    time.sleep(poll_s)
        except BaseException:
            process.terminate()
            process.wait()
            raise
    if pruned and process.returncode == INTERRUPTED:
        shutil.rmtree(run_dir / "checkpoints", ignore_errors=True)
        return TrialResult(TrialState.PRUNED)
    metrics = run_dir / "metrics.json"
    if process.returncode == 0 and metrics.is_file():
        value = json.loads(metrics.read_text(encoding="utf-8")).get("best_val")
        if value is not None:
            return TrialResult(TrialState.COMPLETE, float(value))
        return TrialResult(TrialState.FAIL, error=f"{run_dir}: the fit recorded no best validation value")
    tail = (run_dir / "stderr.log").read_text(encoding="utf-8", errors="replace").splitlines()[-20:]
    return TrialResult(TrialState.FAIL, error=f"exit {process.returncode}: " + "\n".join(tail))
