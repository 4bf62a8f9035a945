"""A study worker: asks for trials until every loss has its budget, then runs its share of the final stage.

Several workers (``--workers N`` here, a job array on SLURM) share one storage: a file lock around
"count this loss's trials, ask for one more" keeps every loss at exactly its budget.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

import optuna
from optuna.trial import FrozenTrial, TrialState

from experiments.launchers.slurm_queue import SchedulerError, SlurmQueue
from experiments.report.trials_table import ERROR_ATTR, is_interrupted
from experiments.tune.study_layout import StudyLayout
from experiments.tune.study_preflight import LossPlan
from experiments.tune.study_runs import trial_args
from experiments.tune.study_spec import StudySpec
from experiments.tune.study_storage import sampler_for
from experiments.tune.trial_runner import TrialResult, run_trial

COUNTED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING)
TrialRunner = Callable[[Sequence[str], Any, optuna.Trial, str], TrialResult]


def _worker_identity() -> dict[str, Any]:
    array = os.environ.get("SLURM_ARRAY_JOB_ID")
    job = f"{array}_{os.environ['SLURM_ARRAY_TASK_ID']}" if array else os.environ.get("SLURM_JOB_ID")
    return {"host": socket.gethostname(), "pid": os.getpid(), "slurm_job": job}


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class StudyWorker:
    """Runs trials of a study's per-loss Optuna studies, then waits for the search to end.

    Args:
        spec: The study.
        layout: Its directory.
        plans: What the pre-flight found per loss (objective and direction).
        studies: Loss label -> its Optuna study.
        extra: ``losslab fit`` arguments added to every run.
        runner: Runs one trial (default: :func:`run_trial`, a ``losslab fit`` process).
        out: Where progress lines go.
        queue: The SLURM queue, to recognise trials of workers whose job died.
    """

    def __init__(
        self,
        spec: StudySpec,
        layout: StudyLayout,
        plans: Sequence[LossPlan],
        studies: dict[str, optuna.Study],
        extra: Sequence[str] = (),
        runner: TrialRunner = run_trial,
        out: TextIO | None = None,
        queue: SlurmQueue | None = None,
    ) -> None:
        self.spec = spec
        self.layout = layout
        self.plans = {plan.label: plan for plan in plans}
        self.losses = {loss.label: loss for loss in spec.losses}
        self.studies = studies
        self.extra = list(extra)
        self.runner = runner
        self.out = out or sys.stdout
        self.queue = queue or SlurmQueue()

    # ----------------------------------------------------------------- trials of dead workers
    def _dead(self, trial: FrozenTrial) -> bool:
        attrs = trial.user_attrs
        if attrs.get("slurm_job"):
            try:
                info = self.queue.jobs([attrs["slurm_job"]]).get(attrs["slurm_job"])
            except (SchedulerError, OSError):
                return False  # no scheduler to ask (another machine): leave the trial alone
            return info is None or not info.alive
        return attrs.get("host") == socket.gethostname() and not _pid_alive(int(attrs.get("pid", 0)))

    def fail_orphans(self) -> int:
        """Settle running trials of dead workers (killed, node lost, job cancelled); how many were failed.

        A trial whose fit finished (``metrics.json``) before its worker died is recorded as complete with
        the run's best validation value; any other is failed (without an error: interrupted), and its budget
        asked for again.
        """
        failed = 0
        for study in self.studies.values():
            for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
                if not self._dead(trial):
                    continue
                value = _finished_value(trial.user_attrs.get("run_dir"))
                if value is not None:
                    study.tell(trial.number, values=[value], state=TrialState.COMPLETE, skip_if_finished=True)
                else:
                    study.tell(trial.number, state=TrialState.FAIL, skip_if_finished=True)
                    failed += 1
        return failed

    # ----------------------------------------------------------------- budget
    def counts(self, label: str) -> Counter[str]:
        """Trials of ``label`` by state name."""
        return Counter(t.state.name for t in self.studies[label].get_trials(deepcopy=False))

    def errors(self, label: str) -> int:
        """Failed trials of ``label`` whose fit ended in an error.

        Trials interrupted by their worker's death (a kill, a lost node, the end of a machine's lease) are
        failed without an error: they say nothing about the configuration, so they do not use up
        ``max_failed_trials``, and a study moved between machines keeps searching every loss to its budget.
        """
        trials = self.studies[label].get_trials(deepcopy=False, states=(TrialState.FAIL,))
        return sum(not is_interrupted(trial) for trial in trials)

    def _open(self, label: str) -> bool:
        counts = self.counts(label)
        counted = sum(counts[state.name] for state in COUNTED)
        return counted < self.spec.trials_per_loss and self.errors(label) < self.spec.max_failed_trials

    def _ask(self) -> tuple[str, optuna.Trial] | None:
        if self.layout.stop_requested():
            return None
        with self.layout.ask_lock():
            # The loss with the fewest trials first: losses advance together, whatever the number of workers.
            order = sorted(self.studies, key=lambda label: sum(self.counts(label)[s.name] for s in COUNTED))
            for label in order:
                if self._open(label):
                    space = self.spec.search_space(self.losses[label])
                    study = self.studies[label]
                    position = list(self.studies).index(label)
                    study.sampler = sampler_for(self.spec, position, len(study.get_trials(deepcopy=False)))
                    trial = study.ask({p.key: p.distribution for p in space})
                    for key, value in _worker_identity().items():
                        trial.set_user_attr(key, value)
                    trial.set_user_attr("run_dir", str(self.layout.trial_dir(label, trial.number)))
                    return label, trial
        return None

    # ----------------------------------------------------------------- the search
    def search(self) -> Counter[str]:
        """Run trials until no loss has budget left, or a stop was requested; this worker's trials by state."""
        outcome: Counter[str] = Counter()
        self.fail_orphans()
        while (asked := self._ask()) is not None:
            label, trial = asked
            run_dir = self.layout.trial_dir(label, trial.number)
            args = trial_args(self.spec, self.losses[label], trial.params, run_dir, trial.number, self.extra)
            print(f"[{label} trial {trial.number}] running {_short(trial.params)} (logs in {run_dir})", file=self.out)
            started = time.monotonic()
            result = self.runner(args, run_dir, trial, self.plans[label].objective)
            if result.error:
                trial.set_user_attr(ERROR_ATTR, result.error[-2000:])
            values = None if result.value is None else [result.value]
            self.studies[label].tell(trial, values=values, state=result.state)
            value = "" if result.value is None else f" {self.plans[label].objective}={result.value:.4f}"
            took = f"{time.monotonic() - started:.0f} s"
            state = result.state.name.lower()
            print(f"[{label} trial {trial.number}] {state}{value} in {took}", file=self.out, flush=True)
            outcome[result.state.name.lower()] += 1
        return outcome

    def search_finished(self) -> bool:
        """No loss has budget left and no trial is running (orphans of dead workers failed first)."""
        self.fail_orphans()
        running = any(self.counts(label)[TrialState.RUNNING.name] for label in self.studies)
        return not running and not any(self._open(label) for label in self.studies)

    def wait_for_search(self, poll_s: float = 5.0) -> None:
        """Wait for other workers' trials; a dead worker's trial is failed and its budget asked for again.

        Returns at once when a stop was requested (``losslab tune SPEC --stop``).
        """
        while not self.layout.stop_requested() and not self.search_finished():
            if any(self._open(label) for label in self.studies):
                self.search()
            else:
                time.sleep(poll_s)

    def best_params(self) -> dict[str, dict[str, Any]]:
        """Loss label -> parameters of its best complete trial.

        Raises:
            ValueError: Naming the losses that have no complete trial (all pruned or failed).
        """
        best, missing = {}, []
        for label, study in self.studies.items():
            complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            if complete:
                best[label] = dict(study.best_trial.params)
            else:
                missing.append(label)
        if missing:
            raise ValueError(
                f"study {self.spec.name}: no complete trial for {missing}: nothing to rerun in the final stage; "
                "see losslab tune --status"
            )
        return best


def _finished_value(run_dir: str | None) -> float | None:
    """The best validation value of a trial's finished run, or ``None``."""
    metrics = Path(run_dir) / "metrics.json" if run_dir else None
    if metrics is None or not metrics.is_file():
        return None
    value = json.loads(metrics.read_text(encoding="utf-8")).get("best_val")
    return None if value is None else float(value)


def _short(params: dict[str, Any]) -> str:
    return ", ".join(f"{key.rsplit('.', 1)[-1]}={_fmt(value)}" for key, value in params.items())


def _fmt(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)
