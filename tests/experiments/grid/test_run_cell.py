"""``run_cell``: a fresh fit, or ``fit --resume`` when the run directory holds ``checkpoints/last.ckpt``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from experiments.grid.grid_cell import CELL_FILE, GridCell
from experiments.grid.run_cell import CellFailedError, CellJob, cell_fit_args, run_cell

CELL = GridCell(3, "cosent__seed1", "g", {"loss": "cosent"}, 1, ("--config", "x.yaml"), "CoSENTLoss", "stsb")


class Fit:
    """Stands in for ``experiments.cli.main``: records its arguments, writes metrics.json unless told not to."""

    def __init__(self, code: int = 0, finish: bool = True) -> None:
        self.code, self.finish, self.calls = code, finish, []

    def __call__(self, args: Sequence[str]) -> int:
        self.calls.append(list(args))
        run_dir = Path(args[args.index("--run_dir") + 1] if "--run_dir" in args else args[-1])
        if self.finish:
            (run_dir / "metrics.json").write_text("{}")
        return self.code


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    path = tmp_path / "g" / CELL.cell_id
    path.mkdir(parents=True)
    (path / CELL_FILE).write_text(json.dumps(CELL.to_json()))
    return path


def test_a_fresh_cell_runs_its_fit_and_sets_an_earlier_attempt_aside(run_dir: Path) -> None:
    (run_dir / "checkpoints").mkdir()
    (run_dir / "metrics.csv").write_text("step\n")
    fit = Fit()
    run_cell(run_dir, fit)
    assert fit.calls == [CELL.fit_args(run_dir)]
    (moved,) = run_dir.parent.glob(f"{CELL.cell_id}.interrupted-*")
    assert sorted(p.name for p in moved.iterdir()) == ["checkpoints", "metrics.csv"]
    assert sorted(p.name for p in run_dir.iterdir()) == [CELL_FILE, "metrics.json"]


def test_a_cell_with_last_ckpt_is_resumed_in_place(run_dir: Path) -> None:
    (run_dir / "checkpoints").mkdir()
    (run_dir / "checkpoints" / "last.ckpt").write_text("state")
    fit = Fit()
    run_cell(run_dir, fit)
    assert fit.calls == [["fit", "--resume", str(run_dir)]] == [cell_fit_args(run_dir)]
    assert (run_dir / "checkpoints" / "last.ckpt").read_text() == "state"
    assert not list(run_dir.parent.glob("*.interrupted-*"))


def test_a_finished_cell_is_never_run_again(run_dir: Path) -> None:
    (run_dir / "metrics.json").write_text('{"result": 1}')
    fit = Fit()
    run_cell(run_dir, fit)
    assert fit.calls == []
    assert (run_dir / "metrics.json").read_text() == '{"result": 1}'


@pytest.mark.parametrize(
    ("fit", "message"),
    [(Fit(code=2), "cosent__seed1: losslab fit exited with code 2"), (Fit(finish=False), "ended without metrics.json")],
)
def test_a_fit_that_fails_or_stops_early_fails_the_cell(run_dir: Path, fit: Fit, message: str) -> None:
    with pytest.raises(CellFailedError, match=message):
        run_cell(run_dir, fit)


def test_ranks_other_than_zero_neither_move_files_nor_wait_for_metrics(
    run_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLURM_PROCID", "1")
    (run_dir / "config.yaml").write_text("rank 0 writes this")
    run_cell(run_dir, Fit(finish=False))
    assert (run_dir / "config.yaml").is_file()


def test_the_slurm_job_pickles_with_an_absolute_run_directory(run_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import cloudpickle

    monkeypatch.chdir(run_dir.parent)
    job = cloudpickle.loads(cloudpickle.dumps(CellJob(Path(CELL.cell_id))))
    # A compute node may start the task elsewhere: the path must not depend on the submitting cwd.
    assert job.run_dir == run_dir
