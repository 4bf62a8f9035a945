"""``SlurmQueue`` on squeue's own output format (test_slurm_grid.py runs it against the real cluster)."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence

import pytest

from experiments.launchers.slurm_queue import JobInfo, SchedulerError, SlurmQueue

# What `squeue --noheader --array --states=all -j 12,15 -O JobArrayID:|,State:|,Reason:|,RestartCnt:|` prints.
SQUEUE_OUT = """12_0|COMPLETED|None|0|
12_1|CANCELLED|None|0|
12_2|PENDING|JobArrayTaskLimit|0|
15|PENDING|BeginTime|1|
"""


class Squeue:
    """Answers like squeue; records the commands."""

    def __init__(self, *answers: subprocess.CompletedProcess) -> None:
        self.answers = list(answers)
        self.commands: list[list[str]] = []

    def __call__(self, command: Sequence[str]) -> subprocess.CompletedProcess:
        self.commands.append(list(command))
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


def answer(stdout: str = "", stderr: str = "", code: int = 0) -> subprocess.CompletedProcess:
    return subprocess.CompletedProcess([], code, stdout, stderr)


def test_jobs_are_read_per_array_task() -> None:
    squeue = Squeue(answer(SQUEUE_OUT))
    jobs = SlurmQueue(squeue).jobs(["12_1", "12_2", "15", "12_9"])
    assert jobs == {
        "12_1": JobInfo("12_1", "CANCELLED", "None", 0),
        "12_2": JobInfo("12_2", "PENDING", "JobArrayTaskLimit", 0),
        "15": JobInfo("15", "PENDING", "BeginTime", 1),
    }
    assert [job.alive for job in jobs.values()] == [False, True, True]
    (command,) = squeue.commands
    assert command[:5] == ["squeue", "--noheader", "--array", "--states=all", "-j"]
    assert command[5] == "12,15"


def test_jobs_the_scheduler_forgot_are_absent() -> None:
    squeue = Squeue(answer(stderr="slurm_load_jobs error: Invalid job id specified\n", code=1))
    assert SlurmQueue(squeue).jobs(["7_0"]) == {}
    assert SlurmQueue(squeue).jobs([]) == {}
    assert len(squeue.commands) == 1


def test_a_scheduler_that_cannot_answer_is_an_error_not_dead_jobs() -> None:
    down = Squeue(
        answer(stderr="slurm_load_jobs error: Unable to contact slurm controller (connect failure)\n", code=1)
    )
    with pytest.raises(SchedulerError, match=r"^squeue failed: slurm_load_jobs error: Unable to contact slurm"):
        SlurmQueue(down).jobs(["7_0"])


def test_squeue_missing_is_one_line() -> None:
    def missing(command: Sequence[str]) -> subprocess.CompletedProcess:
        raise FileNotFoundError(command[0])

    with pytest.raises(SchedulerError, match=r"^jobs 7_0 were submitted to SLURM, but squeue is not on PATH here"):
        SlurmQueue(missing).jobs(["7_0"])


def test_wait_polls_until_nothing_is_alive() -> None:
    squeue = Squeue(answer("3_0|RUNNING|None|0|\n3_1|PENDING|Priority|0|\n"), answer("3_0|COMPLETED|None|0|\n"))
    assert SlurmQueue(squeue).wait(["3_0", "3_1"], poll_s=0) == {"3_0": JobInfo("3_0", "COMPLETED", "None", 0)}
    assert len(squeue.commands) == 2
    with pytest.raises(TimeoutError, match="jobs still alive after 0 s: 4_0"):
        SlurmQueue(Squeue(answer("4_0|RUNNING|None|0|\n"))).wait(["4_0"], poll_s=0, timeout_s=0)
