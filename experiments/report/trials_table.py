"""Tuning trials as a file: ``trials.csv`` (one row per trial) and ``trials_search_space.json`` (per loss).

A study hands the report :class:`TrialRecord` objects (``TrialRecord.from_frozen_trial`` for Optuna's trials);
the two files hold everything needed to rebuild them, and so the tuning plots.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from experiments.atomic_io import atomic_write_json, atomic_write_text

if TYPE_CHECKING:
    from optuna.trial import FrozenTrial

TRIALS_FILE = "trials.csv"
SEARCH_SPACE_FILE = "trials_search_space.json"
PARAM_PREFIX = "params_"  # Optuna's own trials_dataframe() names parameter columns this way
TrialStateName = Literal["COMPLETE", "PRUNED", "FAIL", "RUNNING", "WAITING"]
Direction = Literal["maximize", "minimize"]
FINISHED: tuple[TrialStateName, ...] = ("COMPLETE", "PRUNED", "FAIL")
ERROR_ATTR = "error"  # user attribute where losslab's trial runner records why a fit failed


def is_interrupted(trial: FrozenTrial) -> bool:
    """A failed trial without the trial runner's error: cut off by its worker's death, not failed by its fit."""
    return trial.state.name == "FAIL" and ERROR_ATTR not in trial.user_attrs


@dataclass(frozen=True)
class TrialRecord:
    """One tuning trial of one loss.

    Args:
        loss: The loss label (a leaderboard row).
        number: The trial's number in its study.
        state: Optuna's trial state name.
        value: The objective (validation) value; ``None`` unless complete (or pruned with a last value).
        params: Parameter name -> sampled value.
        distributions: Parameter name -> its distribution as Optuna JSON (``distribution_to_json``).
        direction: The study's direction.
        duration_s: Wall time of the trial, when known.
        interrupted: A failed trial cut off by its worker's death (no error of its own): its budget was asked
            for again, so it is not among the trials a loss used.
    """

    loss: str
    number: int
    state: TrialStateName
    value: float | None
    params: dict[str, Any] = field(default_factory=dict)
    distributions: dict[str, str] = field(default_factory=dict)
    direction: Direction = "maximize"
    duration_s: float | None = None
    interrupted: bool = False

    @classmethod
    def from_frozen_trial(cls, loss: str, trial: FrozenTrial, direction: Direction) -> TrialRecord:
        """The record of an Optuna ``FrozenTrial`` (single-objective)."""
        from optuna.distributions import distribution_to_json

        return cls(
            loss=loss,
            number=trial.number,
            state=trial.state.name,  # type: ignore[arg-type]
            value=trial.value,
            params=dict(trial.params),
            distributions={name: distribution_to_json(d) for name, d in trial.distributions.items()},
            direction=direction,
            duration_s=None if trial.duration is None else trial.duration.total_seconds(),
            interrupted=is_interrupted(trial),
        )


def trials_used(records: Sequence[TrialRecord]) -> dict[str, int]:
    """Loss -> finished trials (complete, pruned or failed, not interrupted): the tuning budget each loss spent."""
    counts: dict[str, int] = {}
    for record in records:
        counts.setdefault(record.loss, 0)
        counts[record.loss] += record.state in FINISHED and not record.interrupted
    return counts


def trials_csv(records: Sequence[TrialRecord]) -> str:
    """``loss, trial, state, value, duration_s, interrupted, params_<name>...`` (parameters sorted by name)."""
    names = sorted({name for record in records for name in record.params})
    rows = [
        {
            "loss": r.loss,
            "trial": r.number,
            "state": r.state,
            "value": r.value,
            "duration_s": r.duration_s,
            "interrupted": r.interrupted,
            **{PARAM_PREFIX + name: r.params.get(name) for name in names},
        }
        for r in sorted(records, key=lambda r: (r.loss, r.number))
    ]
    columns = ["loss", "trial", "state", "value", "duration_s", "interrupted", *(PARAM_PREFIX + n for n in names)]
    buffer = io.StringIO()
    pd.DataFrame(rows, columns=columns).to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()


def search_space(records: Sequence[TrialRecord]) -> dict[str, dict[str, Any]]:
    """Loss -> ``{"direction": ..., "distributions": {name: json}}``."""
    space: dict[str, dict[str, Any]] = {}
    for record in records:
        entry = space.setdefault(record.loss, {"direction": record.direction, "distributions": {}})
        entry["distributions"].update(record.distributions)
    return space


def write_trials(records: Sequence[TrialRecord], report_dir: Path) -> list[Path]:
    """Write ``trials.csv`` and ``trials_search_space.json`` into ``report_dir`` (atomically)."""
    return [
        atomic_write_text(report_dir / TRIALS_FILE, trials_csv(records)),
        atomic_write_json(report_dir / SEARCH_SPACE_FILE, search_space(records)),
    ]


def _value(raw: Any, distribution: str | None) -> Any:
    if raw is None or (isinstance(raw, float) and math.isnan(raw)):
        return None
    if distribution is None:
        return float(raw) if isinstance(raw, int | float) else raw
    from optuna.distributions import CategoricalDistribution, IntDistribution, json_to_distribution

    parsed = json_to_distribution(distribution)
    if isinstance(parsed, CategoricalDistribution):
        # CSV turns every choice into text: map it back to the choice that prints the same.
        return next((choice for choice in parsed.choices if str(choice) == str(raw)), raw)
    return int(raw) if isinstance(parsed, IntDistribution) else float(raw)


def read_trials(report_dir: Path) -> list[TrialRecord]:
    """The records written by :func:`write_trials` (empty when there is no ``trials.csv``).

    Raises:
        ValueError: If a required column is missing.
    """
    path = report_dir / TRIALS_FILE
    if not path.is_file():
        return []
    table = pd.read_csv(path, dtype={"loss": str, "state": str}, keep_default_na=True)
    missing = [c for c in ("loss", "trial", "state", "value") if c not in table.columns]
    if missing:
        raise ValueError(f"{path}: missing columns {missing}; expected loss, trial, state, value, params_<name>...")
    space_path = report_dir / SEARCH_SPACE_FILE
    space = json.loads(space_path.read_text(encoding="utf-8")) if space_path.is_file() else {}
    names = [c.removeprefix(PARAM_PREFIX) for c in table.columns if c.startswith(PARAM_PREFIX)]
    records = []
    for row in table.to_dict("records"):
        entry = space.get(row["loss"], {})
        distributions = entry.get("distributions", {})
        params = {n: _value(row[PARAM_PREFIX + n], distributions.get(n)) for n in names}
        params = {n: v for n, v in params.items() if v is not None}
        records.append(
            TrialRecord(
                loss=row["loss"],
                number=int(row["trial"]),
                state=row["state"],
                value=_value(row["value"], None),
                params=params,
                distributions={n: distributions[n] for n in params if n in distributions},
                direction=entry.get("direction", "maximize"),
                duration_s=_value(row.get("duration_s"), None),
                interrupted=str(row.get("interrupted", False)) == "True",  # absent in files written before it
            )
        )
    return records
