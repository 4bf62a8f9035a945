"""Tuning plots per loss: Optuna's optimisation history and parameter importances (matplotlib, offline)."""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib

from experiments.report.plots import save_figure
from experiments.report.trials_table import FINISHED, TrialRecord


@dataclass(frozen=True)
class StudyPlots:
    """What was plotted for one loss, and why a plot is missing.

    Args:
        loss: The loss label.
        paths: The files written.
        notes: One line per plot that could not be drawn, saying why.
    """

    loss: str
    paths: tuple[Path, ...]
    notes: tuple[str, ...]


def file_stem(loss: str) -> str:
    """A file-name-safe version of a loss label."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", loss)


def _study(records: Sequence[TrialRecord]):  # noqa: ANN202 - optuna is imported lazily
    import optuna
    from optuna.distributions import json_to_distribution
    from optuna.trial import TrialState, create_trial

    study = optuna.create_study(direction=records[0].direction, study_name=records[0].loss)
    for record in sorted(records, key=lambda r: r.number):
        if record.state not in FINISHED or (record.state == "COMPLETE" and record.value is None):
            continue
        distributions = {name: json_to_distribution(d) for name, d in record.distributions.items()}
        study.add_trial(
            create_trial(
                state=TrialState[record.state],
                value=record.value if record.state == "COMPLETE" else None,
                params={name: record.params[name] for name in distributions if name in record.params},
                distributions=distributions,
            )
        )
    return study


def plot_study(records: Sequence[TrialRecord], report_dir: Path) -> StudyPlots:
    """``optimization_history_<loss>`` and ``param_importances_<loss>`` (PNG and SVG) for one loss's trials.

    The importance plot (fANOVA, seeded) needs at least two completed trials and a parameter whose value
    varies among them; otherwise it is not drawn and a note says why (Optuna would draw equal importances).

    Args:
        records: The trials of one loss (one study).
        report_dir: Where the plots go.
    """
    import optuna
    from optuna.exceptions import ExperimentalWarning
    from optuna.importance import FanovaImportanceEvaluator
    from optuna.visualization import matplotlib as optuna_plots

    loss = records[0].loss
    stem = file_stem(loss)
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # no "study created" lines per plot
    try:
        # Optuna's plots switch matplotlib to its "ggplot" style globally: rc_context restores the report's.
        with warnings.catch_warnings(), matplotlib.rc_context():
            warnings.simplefilter("ignore", ExperimentalWarning)
            study = _study(records)
            complete = [t for t in study.trials if t.state.name == "COMPLETE"]
            paths: list[Path] = []
            notes: list[str] = []
            if not complete:
                notes.append(f"{loss}: no optimisation history: no completed trial of {len(records)}")
                notes.append(f"{loss}: no parameter importances: no completed trial")
                return StudyPlots(loss, (), tuple(notes))
            axis = optuna_plots.plot_optimization_history(study)
            axis.set_title(f"{loss}: optimisation history")
            paths += save_figure(axis.figure, report_dir / f"optimization_history_{stem}")
            varying = sorted(
                name
                for name in {n for t in complete for n in t.params}
                if len({repr(t.params.get(name)) for t in complete}) > 1
            )
            if len(complete) < 2:
                notes.append(f"{loss}: no parameter importances: {len(complete)} completed trial (2 needed)")
            elif not varying:
                notes.append(f"{loss}: no parameter importances: no parameter varies across the completed trials")
            else:
                evaluator = FanovaImportanceEvaluator(seed=0)
                axis = optuna_plots.plot_param_importances(study, evaluator=evaluator, params=varying)
                axis.set_title("", loc="left")  # Optuna's own title sits there
                axis.set_title(f"{loss}: parameter importances (fANOVA, {len(complete)} completed trials)")
                paths += save_figure(axis.figure, report_dir / f"param_importances_{stem}")
            return StudyPlots(loss, tuple(paths), tuple(notes))
    finally:
        optuna.logging.set_verbosity(verbosity)


def plot_studies(records: Sequence[TrialRecord], report_dir: Path) -> list[StudyPlots]:
    """:func:`plot_study` for every loss in ``records``, in label order."""
    losses = sorted({r.loss for r in records})
    return [plot_study([r for r in records if r.loss == loss], report_dir) for loss in losses]
