"""Cell states from files, claims and the scheduler's answers (squeue's output format, see test_slurm_queue)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from experiments.grid.cell_state import CellState, CellStateReader
from experiments.grid.cell_submissions import append_submission, load_submissions
from experiments.grid.grid_cell import GridCell
from experiments.grid.grid_layout import CellStatus, GridLayout
from experiments.launchers.slurm_queue import SlurmQueue
from tests.experiments.grid.test_cell_claims import dead_pid, write_claim
from tests.experiments.launchers.test_slurm_queue import Squeue, answer

CELL = GridCell(0, "c0", "g", {"loss": "c0"}, 1, ())
FORGOTTEN = answer(stderr="slurm_load_jobs error: Invalid job id specified\n", code=1)


def submit(layout: GridLayout, *jobs: tuple[str, str | None]) -> None:
    """Record submissions: (job id, how the previous one ended)."""
    layout.root.mkdir(parents=True, exist_ok=True)
    for job_id, previous_end in jobs:
        log = layout.root / "_slurm" / f"{job_id}_0_log"
        append_submission(
            layout.submissions_path(CELL), job_id, log.with_suffix(".out"), log.with_suffix(".err"), previous_end
        )


def read(layout: GridLayout, squeue: Squeue) -> CellState:
    return CellStateReader(layout, SlurmQueue(squeue)).read(CELL)


@pytest.mark.parametrize(
    ("line", "status", "alive", "failures"),
    [
        ("5_0|PENDING|Priority|0|", CellStatus.PENDING, True, 0),
        ("5_0|RUNNING|None|0|", CellStatus.RUNNING, True, 0),
        ("5_0|COMPLETING|None|0|", CellStatus.RUNNING, True, 0),
        ("5_0|PENDING|BeginTime|1|", CellStatus.PREEMPTED, True, 0),
        ("5_0|PREEMPTED|None|0|", CellStatus.PREEMPTED, False, 0),
        ("5_0|CANCELLED|None|0|", CellStatus.FAILED, False, 1),
        ("5_0|OUT_OF_MEMORY|OutOfMemory|0|", CellStatus.FAILED, False, 1),
        ("5_0|NODE_FAIL|None|0|", CellStatus.FAILED, False, 1),
        ("5_0|TIMEOUT|TimeLimit|0|", CellStatus.FAILED, False, 1),
        # Ended "successfully" but without metrics.json: not done.
        ("5_0|COMPLETED|None|0|", CellStatus.FAILED, False, 1),
    ],
)
def test_the_scheduler_decides_for_a_submitted_cell(
    line: str, status: CellStatus, alive: bool, failures: int, tmp_path: Path
) -> None:
    layout = GridLayout(tmp_path / "g")
    submit(layout, ("5_0", None))
    # A run directory (and a dead local claim) are what a killed job leaves; they do not decide.
    layout.run_dir(CELL).mkdir()
    write_claim(layout.claim_path(CELL), [dead_pid()])
    state = read(layout, Squeue(answer(line + "\n")))
    assert (state.status, state.alive, state.failures, state.job_id) == (status, alive, failures, "5_0")
    assert state.job_state == line.split("|")[1]
    assert state.log == str(layout.root / "_slurm" / "5_0_0_log.err")
    assert state.runnable(max_failures=3) is not alive


def test_a_job_the_scheduler_forgot_has_failed(tmp_path: Path) -> None:
    layout = GridLayout(tmp_path / "g")
    submit(layout, ("5_0", None))
    state = read(layout, Squeue(FORGOTTEN))
    assert (state.status, state.job_state, state.failures) == (CellStatus.FAILED, "UNKNOWN", 1)


def test_metrics_json_means_done_whatever_the_scheduler_says(tmp_path: Path) -> None:
    layout = GridLayout(tmp_path / "g")
    submit(layout, ("5_0", None))
    layout.run_dir(CELL).mkdir()
    (layout.run_dir(CELL) / "metrics.json").write_text(json.dumps({}))
    state = read(layout, Squeue(answer("5_0|COMPLETING|None|0|\n")))
    assert (state.status, state.alive, state.job_id) == (CellStatus.DONE, False, "5_0")
    assert not state.runnable(max_failures=3)


def test_failures_add_up_over_attempts_but_preemptions_do_not(tmp_path: Path) -> None:
    layout = GridLayout(tmp_path / "g")
    submit(layout, ("5_0", None), ("6_0", "CANCELLED"), ("7_0", "PREEMPTED"), ("8_0", "OUT_OF_MEMORY"))
    assert [s.end_state for s in load_submissions(layout.submissions_path(CELL))] == [
        "CANCELLED",
        "PREEMPTED",
        "OUT_OF_MEMORY",
        None,
    ]
    squeue = Squeue(answer("8_0|RUNNING|None|0|\n"))
    running = read(layout, squeue)
    assert (running.status, running.failures) == (CellStatus.RUNNING, 2)
    assert squeue.commands[0][5] == "8"  # only the latest job is asked about
    ended = read(layout, Squeue(answer("8_0|TIMEOUT|TimeLimit|0|\n")))
    assert (ended.status, ended.failures) == (CellStatus.FAILED, 3)
    assert not ended.runnable(max_failures=3)
    assert ended.runnable(max_failures=3, retry_failed=True)
    assert ended.runnable(max_failures=4)


def test_local_failures_count_and_point_to_their_log(tmp_path: Path) -> None:
    layout = GridLayout(tmp_path / "g")
    layout.root.mkdir()
    for _ in range(2):
        layout.record_failure(CELL, {"returncode": -9, "log": "/logs/stderr.log"})
    state = read(layout, Squeue(answer()))
    assert (state.status, state.failures, state.log, state.job_id) == (CellStatus.FAILED, 2, "/logs/stderr.log", None)
    assert state.runnable(max_failures=3) and not state.runnable(max_failures=2)


def test_cells_never_submitted_do_not_ask_the_scheduler(tmp_path: Path) -> None:
    squeue = Squeue(answer())
    cells = [GridCell(i, f"c{i}", "g", {"loss": f"c{i}"}, 1, ()) for i in range(3)]
    states = CellStateReader(GridLayout(tmp_path / "g"), SlurmQueue(squeue)).read_all(cells)
    assert [s.status for s in states] == [CellStatus.PENDING] * 3
    assert squeue.commands == []
