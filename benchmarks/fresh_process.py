"""Shared by the memory benchmarks: run a measurement in a fresh process and read its peak memory."""

from __future__ import annotations

import multiprocessing as mp
import resource
from collections.abc import Callable
from pathlib import Path
from typing import Any


def peak_rss_kb() -> int:
    """This process's resident-set high-water mark in KiB.

    ``VmHWM`` where available: ``ru_maxrss`` also counts the parent's peak at fork time on Linux, which
    would hide the peak of a step smaller than the benchmark's own earlier steps.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run_in_fresh_process(target: Callable[..., None], *args: Any) -> Any:
    """Call ``target(*args, queue)`` in a spawned process and return what it puts on ``queue``."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(*args, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result
