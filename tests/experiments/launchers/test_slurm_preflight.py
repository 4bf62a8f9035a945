from __future__ import annotations

from pathlib import Path

import pytest

from experiments.launchers.slurm_preflight import SlurmUnavailableError, parse_slurm_minutes, require_slurm


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("UNLIMITED", None), ("30", 30), ("2:30", 2.5), ("00:05:00", 5), ("1-00:00:00", 1440), ("1-12", 2160)],
)
def test_slurm_durations(text: str, minutes: float | None) -> None:
    assert parse_slurm_minutes(text) == minutes


def test_a_bad_duration_is_refused() -> None:
    with pytest.raises(ValueError, match="'1h' is not a SLURM duration"):
        parse_slurm_minutes("1h")


def test_missing_sbatch_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SlurmUnavailableError) as err:
        require_slurm()
    assert str(err.value).startswith("--launcher slurm: sbatch, squeue, srun, scontrol not found on PATH;")
    assert "\n" not in str(err.value)
