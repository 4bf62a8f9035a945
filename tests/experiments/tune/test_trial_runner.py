import sys
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from experiments.tune.trial_runner import run_trial, validation_curve

FAKE = (sys.executable, str(Path(__file__).with_name("fake_fit.py")))


def _trial(pruner: optuna.pruners.BasePruner) -> tuple[optuna.Study, optuna.Trial]:
    study = optuna.create_study(direction="maximize", pruner=pruner)
    return study, study.ask()


def _run(tmp_path, monkeypatch, curve, mode="finish", pruner=None, pause="0.05"):
    monkeypatch.setenv("FAKE_FIT_CURVE", ",".join(map(str, curve)))
    monkeypatch.setenv("FAKE_FIT_MODE", mode)
    monkeypatch.setenv("FAKE_FIT_PAUSE_S", pause)
    study, trial = _trial(pruner or optuna.pruners.NopPruner())
    run_dir = tmp_path / "trial"
    result = run_trial(["--run_dir", str(run_dir)], run_dir, trial, "val/score", program=FAKE, poll_s=0.01)
    return study, trial, run_dir, result


def test_a_finished_trial_reports_its_whole_curve_and_its_best_value(tmp_path, monkeypatch):
    _, trial, run_dir, result = _run(tmp_path, monkeypatch, [0.2, 0.5, 0.4])
    assert result.state is TrialState.COMPLETE and result.value == 0.5
    frozen = trial.study.trials[0]
    assert frozen.intermediate_values == {0: 0.2, 1: 0.5, 2: 0.4}
    assert validation_curve(run_dir, "val/score") == [0.2, 0.5, 0.4]


def test_a_pruned_trial_is_stopped_and_reported_as_pruned(tmp_path, monkeypatch):
    # Threshold: any value below 1.0 prunes, at the first report; the fit would otherwise run 3 s.
    _, trial, run_dir, result = _run(
        tmp_path, monkeypatch, [0.1] * 30, pruner=optuna.pruners.ThresholdPruner(lower=1.0), pause="0.1"
    )
    assert result.state is TrialState.PRUNED
    assert not (run_dir / "metrics.json").exists()
    assert len(trial.study.trials[0].intermediate_values) < 30  # stopped early, not run to the end


def test_a_failed_trial_keeps_the_end_of_its_error_output(tmp_path, monkeypatch):
    _, _, _, result = _run(tmp_path, monkeypatch, [0.3], mode="fail")
    assert result.state is TrialState.FAIL and result.value is None
    assert result.error.startswith("exit 1:") and "something broke" in result.error


@pytest.mark.parametrize("content", ["", "step,val/other\n0,1.0\n"])
def test_no_history_or_another_metric_is_an_empty_curve(tmp_path, content):
    if content:
        (tmp_path / "metrics.csv").write_text(content)
    assert validation_curve(tmp_path, "val/score") == []
