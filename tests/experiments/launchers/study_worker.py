"""A study worker for launcher tests: three Optuna trials in the study stored at argv[1] (a journal file).

Each trial records which worker ran it (``LOSSLAB_WORKER_INDEX``) and when it started and ended, so a
test can prove from the shared study that two workers ran at the same time.
"""

from __future__ import annotations

import os
import sys
import time

import optuna
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend

TRIAL_SECONDS = 1.0


def objective(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", -1.0, 1.0)
    trial.set_user_attr("worker", os.environ["LOSSLAB_WORKER_INDEX"])
    trial.set_user_attr("start", time.time())
    time.sleep(TRIAL_SECONDS)
    trial.set_user_attr("end", time.time())
    return x * x


if __name__ == "__main__":
    storage = JournalStorage(JournalFileBackend(sys.argv[1]))
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    optuna.load_study(study_name="shared", storage=storage).optimize(objective, n_trials=3)
