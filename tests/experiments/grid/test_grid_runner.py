from __future__ import annotations

import io
import json
import multiprocessing
import sys
from collections import Counter
from pathlib import Path

import pytest

from experiments.grid.cell_launcher import SubprocessLauncher
from experiments.grid.cell_state import CellStateReader
from experiments.grid.cell_submissions import append_submission
from experiments.grid.grid_cell import CELL_FILE, GridCell
from experiments.grid.grid_layout import CellStatus, GridLayout
from experiments.grid.grid_runner import GridRunner
from experiments.launchers.slurm_queue import SlurmQueue
from tests.experiments.grid.test_cell_claims import dead_pid, write_claim
from tests.experiments.launchers.test_slurm_queue import Squeue, answer

FAKE_FIT = (sys.executable, str(Path(__file__).with_name("fake_fit.py")))


def make_cells(n: int) -> list[GridCell]:
    return [GridCell(i, f"c{i}", "g", {"loss": f"c{i}"}, 1, ()) for i in range(n)]


def run_grid(root: Path, cells: list[GridCell], retry_failed: bool = False) -> Counter:
    runner = GridRunner(cells, GridLayout(root), SubprocessLauncher(FAKE_FIT), retry_failed, out=io.StringIO())
    return runner.run()


@pytest.fixture
def fit_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    log = tmp_path / "fits.log"
    monkeypatch.setenv("FAKE_FIT_LOG", str(log))
    return log


def launched(log: Path) -> list[str]:
    return [line.split()[0] for line in log.read_text().splitlines()] if log.exists() else []


def test_every_cell_runs_once_and_reruns_skip_done_cells(tmp_path: Path, fit_log: Path) -> None:
    cells = make_cells(3)
    assert run_grid(tmp_path / "g", cells) == Counter(done=3)
    layout = GridLayout(tmp_path / "g")
    assert all(layout.status(c) is CellStatus.DONE for c in cells)
    assert json.loads((layout.run_dir(cells[1]) / CELL_FILE).read_text())["labels"] == {"loss": "c1"}
    assert run_grid(tmp_path / "g", cells) == Counter(skipped=3)
    assert launched(fit_log) == ["c0", "c1", "c2"]


def test_failing_cells_are_recorded_retried_and_given_up_after_three_failures(
    tmp_path: Path, fit_log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_FIT_KILL", "c1")
    monkeypatch.setenv("FAKE_FIT_FAIL", "c2")
    cells = make_cells(4)
    layout = GridLayout(tmp_path / "g")
    assert run_grid(layout.root, cells) == Counter(done=2, failed=2)
    assert layout.failures(cells[1])[-1]["returncode"] == -9
    assert "c2 is broken" in layout.failures(cells[2])[-1]["stderr_tail"]
    assert [layout.status(c) for c in cells] == [CellStatus.DONE, CellStatus.FAILED, CellStatus.FAILED, CellStatus.DONE]
    assert not list(layout.root.glob("*.claim"))
    # The next two runs retry the failed cells (each from scratch, the failed attempt's files kept aside) ...
    assert run_grid(layout.root, cells) == Counter(failed=2, skipped=2)
    assert run_grid(layout.root, cells) == Counter(failed=2, skipped=2)
    assert [len(layout.failures(c)) for c in cells] == [0, 3, 3, 0]
    # ... and after the third failure they are left alone, unless retry_failed says otherwise.
    assert run_grid(layout.root, cells) == Counter(skipped=4)
    monkeypatch.delenv("FAKE_FIT_KILL")
    monkeypatch.delenv("FAKE_FIT_FAIL")
    assert run_grid(layout.root, cells, retry_failed=True) == Counter(done=2, skipped=2)
    assert all(layout.status(c) is CellStatus.DONE for c in cells)
    assert len(list(layout.root.glob("c1.failed-*"))) == 3
    assert all((moved / "partial.txt").is_file() for moved in layout.root.glob("c1.failed-*"))
    assert launched(fit_log) == ["c0", "c1", "c2", "c3", *(["c1", "c2"] * 3)]


def test_an_interrupted_cell_with_last_ckpt_is_resumed_in_place(tmp_path: Path, fit_log: Path) -> None:
    cells = make_cells(1)
    layout = GridLayout(tmp_path / "g")
    run_dir = layout.run_dir(cells[0])
    (run_dir / "checkpoints").mkdir(parents=True)
    (run_dir / "checkpoints" / "last.ckpt").write_text("weights")
    (run_dir / "grid_cell.json").write_text(json.dumps(cells[0].to_json()))
    write_claim(layout.claim_path(cells[0]), [dead_pid()])
    assert layout.status(cells[0]) is CellStatus.INTERRUPTED
    assert run_grid(layout.root, cells) == Counter(done=1)
    assert [line.split()[2] for line in fit_log.read_text().splitlines()] == ["resume"]
    assert (run_dir / "checkpoints" / "last.ckpt").read_text() == "weights"
    assert not list(layout.root.glob("c0.*-*"))


def test_an_interrupted_cell_is_moved_aside_and_rerun(tmp_path: Path, fit_log: Path) -> None:
    cells = make_cells(2)
    layout = GridLayout(tmp_path / "g")
    layout.root.mkdir()
    # What a worker killed mid-cell leaves: a run directory without metrics.json and a dead claim.
    (layout.run_dir(cells[0]) / "checkpoints").mkdir(parents=True)
    write_claim(layout.claim_path(cells[0]), [dead_pid(), dead_pid()])
    assert layout.status(cells[0]) is CellStatus.INTERRUPTED
    assert run_grid(layout.root, cells) == Counter(done=2)
    (moved,) = layout.root.glob("c0.interrupted-*")
    assert (moved / "checkpoints").is_dir()
    assert layout.status(cells[0]) is CellStatus.DONE
    assert launched(fit_log) == ["c0", "c1"]
    assert [line.split()[2] for line in fit_log.read_text().splitlines()] == ["fresh", "fresh"]


def test_a_cell_claimed_by_a_live_worker_is_left_alone(tmp_path: Path, fit_log: Path) -> None:
    cells = make_cells(2)
    layout = GridLayout(tmp_path / "g")
    layout.root.mkdir()
    write_claim(layout.claim_path(cells[0]), [multiprocessing.current_process().pid])
    assert layout.status(cells[0]) is CellStatus.RUNNING
    assert run_grid(layout.root, cells) == Counter(done=1, skipped=1)
    assert launched(fit_log) == ["c1"]


def test_a_cell_alive_on_slurm_is_left_to_the_scheduler(tmp_path: Path, fit_log: Path) -> None:
    cells = make_cells(2)
    layout = GridLayout(tmp_path / "g")
    layout.root.mkdir()
    layout.run_dir(cells[0]).mkdir()
    append_submission(layout.submissions_path(cells[0]), "8_0", tmp_path / "o", tmp_path / "e", None)
    reader = CellStateReader(layout, SlurmQueue(Squeue(answer("8_0|RUNNING|None|0|\n"))))
    out = io.StringIO()
    runner = GridRunner(cells, layout, SubprocessLauncher(FAKE_FIT), out=out, reader=reader)
    assert runner.run() == Counter(done=1, skipped=1)
    assert "[0] c0: skipped (running as SLURM job 8_0)" in out.getvalue()
    assert launched(fit_log) == ["c1"]


def _worker(root: str, n: int, result: multiprocessing.Queue) -> None:
    result.put(dict(run_grid(Path(root), make_cells(n))))


def test_concurrent_workers_never_run_a_cell_twice(
    tmp_path: Path, fit_log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_FIT_SLEEP", "0.3")
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    workers = [context.Process(target=_worker, args=(str(tmp_path / "g"), 6, queue)) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    outcomes = [queue.get(timeout=5) for _ in workers]
    assert sorted(launched(fit_log)) == [f"c{i}" for i in range(6)]
    assert sum(o.get("done", 0) for o in outcomes) == 6
    assert all(o.get("done", 0) > 0 for o in outcomes)


def test_a_stop_request_leaves_the_remaining_cells_for_a_later_run(tmp_path: Path, fit_log: Path) -> None:
    cells = make_cells(3)
    out = io.StringIO()
    runner = GridRunner(cells, GridLayout(tmp_path / "g"), SubprocessLauncher(FAKE_FIT), out=out,
                        should_stop=lambda: fit_log.exists())  # fmt: skip
    assert runner.run() == Counter(done=1)
    assert "stop requested: cells from [1] c1 on are left for a later run" in out.getvalue()
    assert run_grid(tmp_path / "g", cells) == Counter(skipped=1, done=2)
    assert launched(fit_log) == ["c0", "c1", "c2"]
