from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

from experiments.grid.cell_claims import CellClaim, claim_is_stale, read_claim


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def write_claim(path: Path, pids: list[int], host: str | None = None) -> None:
    path.write_text(json.dumps({"pids": pids, "host": host or socket.gethostname(), "time": "t", "token": "old"}))


def test_claim_is_exclusive_until_released(tmp_path: Path) -> None:
    path = tmp_path / "cell.claim"
    first = CellClaim.acquire(path)
    assert first is not None
    assert CellClaim.acquire(path) is None
    first.release()
    assert not path.exists()
    assert CellClaim.acquire(path) is not None


def test_stale_claim_of_a_dead_local_worker_is_taken_over(tmp_path: Path) -> None:
    path = tmp_path / "cell.claim"
    write_claim(path, [dead_pid()])
    claim = CellClaim.acquire(path)
    assert claim is not None
    assert read_claim(path)["token"] == claim.content["token"]
    assert [p.name for p in tmp_path.iterdir()] == ["cell.claim"]


def test_claim_stays_live_while_its_fit_process_runs(tmp_path: Path) -> None:
    path = tmp_path / "cell.claim"
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        write_claim(path, [dead_pid(), child.pid])
        assert CellClaim.acquire(path) is None
    finally:
        child.kill()
        child.wait()
    assert CellClaim.acquire(path) is not None


def test_claims_of_other_hosts_and_unreadable_claims_are_never_stale() -> None:
    assert not claim_is_stale({"pids": [dead_pid()], "host": "elsewhere"})
    assert not claim_is_stale(None)


def test_release_leaves_a_claim_that_is_no_longer_ours(tmp_path: Path) -> None:
    path = tmp_path / "cell.claim"
    claim = CellClaim.acquire(path)
    write_claim(path, [dead_pid()])
    claim.release()
    assert read_claim(path)["token"] == "old"


def test_add_pid_records_the_fit_process(tmp_path: Path) -> None:
    path = tmp_path / "cell.claim"
    claim = CellClaim.acquire(path)
    claim.add_pid(12345)
    assert read_claim(path)["pids"][-1] == 12345
