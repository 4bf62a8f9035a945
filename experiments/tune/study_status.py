"""``losslab tune SPEC --status``: trials per loss by state, best value and parameters, the final stage."""

from __future__ import annotations

import optuna
from optuna.trial import TrialState

from experiments.grid.grid_cell import GridCell
from experiments.grid.grid_layout import GridLayout
from experiments.report.trials_table import is_interrupted
from experiments.tune.study_preflight import LossPlan

STATES = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL, TrialState.RUNNING)


def _params(trial: optuna.trial.FrozenTrial) -> str:
    return ", ".join(
        f"{key.rsplit('.', 1)[-1]}={value:.3g}" if isinstance(value, float) else f"{key.rsplit('.', 1)[-1]}={value}"
        for key, value in trial.params.items()
    )


def status_lines(
    plans: list[LossPlan], studies: dict[str, optuna.Study], budget: int, final: GridLayout, cells: list[GridCell]
) -> list[str]:
    """The status table of a study: one line per loss, then the final stage's cells."""
    width = max(len(plan.label) for plan in plans)
    header = f"{'loss':<{width}}  {'complete':>8} {'pruned':>6} {'failed':>6} {'interrupted':>11} {'running':>7}"
    lines = [f"{header}  of {budget}  best"]
    for plan in plans:
        trials = studies[plan.label].get_trials(deepcopy=False)
        counts = [sum(t.state == state for t in trials) for state in STATES]
        interrupted = sum(map(is_interrupted, trials))
        counts[2] -= interrupted
        complete = [t for t in trials if t.state == TrialState.COMPLETE]
        best = ""
        if complete:
            trial = studies[plan.label].best_trial
            best = f"{plan.objective}={trial.value:.4f} (trial {trial.number}: {_params(trial)})"
        lines.append(
            f"{plan.label:<{width}}  {counts[0]:>8} {counts[1]:>6} {counts[2]:>6} {interrupted:>11} {counts[3]:>7}"
            f"  of {budget}  {best}"
        )
    if cells:
        done = sum(final.metrics(cell) is not None for cell in cells)
        lines.append(f"final stage: {done} of {len(cells)} runs done in {final.root}")
    return lines
