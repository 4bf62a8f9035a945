from __future__ import annotations

from pathlib import Path

import optuna
import pandas as pd
import pytest

from experiments.report.trials_table import (
    SEARCH_SPACE_FILE,
    TRIALS_FILE,
    TrialRecord,
    read_trials,
    trials_used,
    write_trials,
)


def study_records(loss: str, n_trials: int = 5) -> list[TrialRecord]:
    """A real (in-memory) Optuna study with complete, pruned and failed trials."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0))

    def objective(trial: optuna.Trial) -> float:
        lr = trial.suggest_float("lr", 1e-5, 1e-3, log=True)
        scale = trial.suggest_categorical("scale", [10, 20, 30])
        batch = trial.suggest_int("batch_size", 16, 64, step=16)
        if trial.number == 1:
            raise optuna.TrialPruned()
        if trial.number == 2:
            trial.set_user_attr("error", "diverged")  # as losslab's trial runner records a failed fit
            raise RuntimeError("diverged")
        return 80.0 + 1e3 * lr + scale / 10 - batch / 100

    study.optimize(objective, n_trials=n_trials, catch=(RuntimeError,))
    return [TrialRecord.from_frozen_trial(loss, trial, "maximize") for trial in study.trials]


def test_records_from_optuna_trials(tmp_path: Path) -> None:
    records = study_records("cosent")
    assert [r.state for r in records] == ["COMPLETE", "PRUNED", "FAIL", "COMPLETE", "COMPLETE"]
    assert records[0].value is not None and records[2].value is None
    assert set(records[0].params) == {"lr", "scale", "batch_size"}
    assert records[0].duration_s is not None and records[0].duration_s >= 0


def test_trials_csv_and_search_space_round_trip(tmp_path: Path) -> None:
    records = study_records("cosent") + study_records("angle", n_trials=2)
    written = write_trials(records, tmp_path)
    assert [p.name for p in written] == [TRIALS_FILE, SEARCH_SPACE_FILE]
    table = pd.read_csv(tmp_path / TRIALS_FILE)
    assert list(table.columns) == ["loss", "trial", "state", "value", "duration_s", "interrupted", "params_batch_size",
                                   "params_lr", "params_scale"]  # fmt: skip
    assert table[["loss", "trial"]].values.tolist()[:3] == [["angle", 0], ["angle", 1], ["cosent", 0]]
    back = {(r.loss, r.number): r for r in read_trials(tmp_path)}
    for record in records:
        again = back[(record.loss, record.number)]
        assert again.params == record.params and type(again.params["scale"]) is int
        assert type(again.params["batch_size"]) is int and again.distributions == record.distributions
        assert (again.state, again.direction, again.interrupted) == (record.state, record.direction, False)
        assert again.value == (pytest.approx(record.value) if record.value is not None else None)


def test_trials_used_counts_finished_trials_but_not_interrupted_ones(tmp_path: Path) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study()
    study.tell(study.ask(), state=optuna.trial.TrialState.FAIL)  # its worker died: no error recorded
    (cut_off,) = [TrialRecord.from_frozen_trial("cosent", trial, "maximize") for trial in study.trials]
    assert cut_off.state == "FAIL" and cut_off.interrupted
    records = study_records("cosent") + [TrialRecord("cosent", 9, "RUNNING", None), cut_off]
    assert trials_used(records) == {"cosent": 5}
    write_trials(records, tmp_path)

    def key(r: TrialRecord) -> tuple:
        return (r.number, r.state, r.interrupted)

    assert sorted(map(key, read_trials(tmp_path))) == sorted(map(key, records))
    assert sum(r.interrupted for r in read_trials(tmp_path)) == 1


def test_no_trials_file_is_no_trials(tmp_path: Path) -> None:
    assert read_trials(tmp_path) == []
    (tmp_path / TRIALS_FILE).write_text("loss,trial\na,0\n")
    with pytest.raises(ValueError, match="missing columns \\['state', 'value'\\]"):
        read_trials(tmp_path)
