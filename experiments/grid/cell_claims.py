"""Atomic per-cell claim files, so workers sharing a filesystem never run a cell twice."""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from experiments.atomic_io import atomic_write_json


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_claim(path: Path) -> dict[str, Any] | None:
    """The claim's content, or ``None`` if it is gone or not yet written."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def claim_is_stale(claim: dict[str, Any] | None) -> bool:
    """A claim is stale when it was made on this host and none of its processes is alive.

    Claims from other hosts are never judged stale here: their processes cannot be seen from this one.
    An unreadable claim (being written) is not stale.
    """
    if claim is None or claim.get("host") != socket.gethostname():
        return False
    return not any(pid_alive(int(pid)) for pid in claim.get("pids", []))


@dataclass
class CellClaim:
    """A claim held by this process on one cell: ``<grid dir>/<cell id>.claim``.

    Args:
        path: The claim file.
        content: What was written: ``pids`` (worker, then its fit subprocess), ``host``, ``time``, ``token``.
    """

    path: Path
    content: dict[str, Any]

    @classmethod
    def acquire(cls, path: Path) -> CellClaim | None:
        """Claim atomically (``O_CREAT | O_EXCL``); take over a stale claim of a dead local worker.

        Returns:
            The claim, or ``None`` when another live worker holds the cell.
        """
        content = {
            "pids": [os.getpid()],
            "host": socket.gethostname(),
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "token": uuid.uuid4().hex,
        }
        for _ in range(2):
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                if not cls._remove_if_stale(path):
                    return None
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(content, handle)
                handle.flush()
                os.fsync(handle.fileno())
            return cls(path, content)
        return None

    @staticmethod
    def _remove_if_stale(path: Path) -> bool:
        seen = read_claim(path)
        if not claim_is_stale(seen):
            return False
        # Rename to a private name first: of two workers reclaiming at once only one rename succeeds, and
        # the token check makes sure what was moved is the stale claim, not a fresh one made meanwhile.
        private = path.with_name(f"{path.name}.stale-{uuid.uuid4().hex}")
        try:
            os.rename(path, private)
        except FileNotFoundError:
            return True
        moved = read_claim(private)
        if moved is not None and seen is not None and moved.get("token") != seen.get("token"):
            try:
                os.link(private, path)
            except FileExistsError:
                pass
            private.unlink(missing_ok=True)
            return False
        private.unlink(missing_ok=True)
        return True

    def add_pid(self, pid: int) -> None:
        """Record the fit subprocess, so the claim stays live while it runs even if this worker dies."""
        self.content["pids"].append(pid)
        atomic_write_json(self.path, self.content)

    def release(self) -> None:
        """Remove the claim (only if it is still ours)."""
        current = read_claim(self.path)
        if current is not None and current.get("token") == self.content["token"]:
            self.path.unlink(missing_ok=True)
