"""Peak memory of the training loop: the GPU allocator's peak, else the process's resident-set peak."""

from __future__ import annotations

import resource
import sys
from pathlib import Path

import torch

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def _resident_peak_mb() -> float:
    # VmHWM can be reset (clear_refs), so it measures training alone; ru_maxrss, the fallback, cannot.
    if _STATUS.is_file():
        for line in _STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 1024**2


class PeakMemory:
    """Measures the peak memory between :meth:`start` and :meth:`stop` (MiB; ``None`` before a stop).

    On CUDA: ``torch.cuda.max_memory_allocated`` after resetting it. On CPU: the process's peak resident
    set (``VmHWM``), reset at the start where Linux allows it (``/proc/self/clear_refs``); elsewhere the
    peak since the process started.
    """

    def __init__(self) -> None:
        self.peak_mb: float | None = None
        self.earlier_peak_mb: float | None = None  # of the interrupted attempts a resumed run continues

    def start(self) -> None:
        """Reset the peak counters (the peak so far also counts while training runs: see ``state_dict``)."""
        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()
            return
        try:
            _CLEAR_REFS.write_text("5")
        except OSError:
            pass  # not Linux, or not permitted: the peak then counts from the process start

    def so_far(self) -> float:
        """The peak since :meth:`start`, interrupted attempts included (MiB)."""
        if torch.cuda.is_available():
            peak = torch.cuda.max_memory_allocated() / 1024**2
        else:
            peak = _resident_peak_mb()
        return round(max(peak, self.earlier_peak_mb or 0.0), 1)

    def stop(self) -> None:
        """Record the peak since :meth:`start`."""
        self.peak_mb = self.so_far()
