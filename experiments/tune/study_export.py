"""``losslab tune SPEC --export DIR``: a stopped study's storage and finished runs' records, without weights.

What a study needs to be continued elsewhere, or a report rebuilt from it: the Optuna storage, the run
directories of the trials that ended (complete, pruned, or failed with an error) and of the finished
final-stage runs. Checkpoints, exported models and W&B files are left out: they are hundreds of MB per run,
and nothing reads them once a run has ended (a report reads ``metrics.json``, ``metrics.csv``, the MTEB
files and ``config.yaml``). Runs that did not end are left out too: a new machine starts them afresh.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import optuna
from optuna.trial import TrialState

from experiments.grid.cell_claims import claim_is_stale, read_claim
from experiments.grid.grid_layout import METRICS_FILE
from experiments.report.trials_table import is_interrupted
from experiments.tune.study_layout import StudyLayout

LEFT_OUT = ("checkpoints", "model", "wandb")  # per run directory
TABLES = ("trials.csv", "trials_search_space.json")
ENDED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)


@dataclass(frozen=True)
class ExportSummary:
    """What an export copied."""

    target: Path
    trials: int
    final_runs: int


def _running(layout: StudyLayout, studies: dict[str, optuna.Study]) -> list[str]:
    running = [
        f"trial {trial.number} of {label} (pid {trial.user_attrs.get('pid')} on {trial.user_attrs.get('host')})"
        for label, study in studies.items()
        for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    ]
    final = layout.final.root
    claims = sorted(final.glob("*.claim")) if final.is_dir() else []
    return running + [f"final run {p.stem}" for p in claims if not claim_is_stale(read_claim(p))]


def _copy_run(source: Path, target: Path) -> None:
    def left_out(folder: str, names: list[str]) -> list[str]:
        return [name for name in names if name in LEFT_OUT] if Path(folder) == source else []

    shutil.copytree(source, target, ignore=left_out)


def export_study(
    layout: StudyLayout, studies: dict[str, optuna.Study], storage_file: Path, dest: Path
) -> ExportSummary:
    """Copy the study into ``dest/<study directory name>/`` (a runs directory: ``--runs-dir dest`` reads it).

    Call it after the dead workers' trials were settled (``StudyWorker.fail_orphans``).

    Args:
        layout: The study's directory.
        studies: Loss label -> its Optuna study.
        storage_file: The Optuna storage file (``optuna.db`` or ``optuna.journal``).
        dest: The runs directory to export into.

    Raises:
        ValueError: A trial or final run is still running, or the target exists (nothing is overwritten).
    """
    running = _running(layout, studies)
    if running:
        raise ValueError(f"{layout.root}: still running: {'; '.join(running)}; stop the workers, then export")
    target = Path(dest) / layout.root.name
    if target.exists():
        raise ValueError(f"--export {dest}: {target} exists; export into an empty directory (nothing is overwritten)")
    staging = target.with_name(f".{target.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    shutil.copy2(storage_file, staging / storage_file.name)
    for name in TABLES:
        if (layout.root / name).is_file():
            shutil.copy2(layout.root / name, staging / name)
    trials = 0
    for label, study in studies.items():
        for trial in study.get_trials(deepcopy=False):
            # An interrupted trial (its worker died) leaves nothing worth keeping; any other has ended.
            ended = trial.state in ENDED and not is_interrupted(trial)
            run_dir = layout.trial_dir(label, trial.number)
            if ended and run_dir.is_dir():
                _copy_run(run_dir, staging / run_dir.relative_to(layout.root))
                trials += 1
    final_runs = 0
    final = layout.final.root
    for run_dir in sorted(p for p in final.iterdir() if p.is_dir()) if final.is_dir() else []:
        if (run_dir / METRICS_FILE).is_file():
            _copy_run(run_dir, staging / "final" / run_dir.name)
            final_runs += 1
    staging.rename(target)  # the export appears whole or not at all
    return ExportSummary(target, trials, final_runs)
