"""The loss-kernel benchmark still runs against both implementations (tiny batches, in-process)."""

from __future__ import annotations

import importlib.util
import math
import queue
import sys

import pytest

from tests.conftest import PROJECT_ROOT

# The benchmarks run as scripts, importing their shared helper from their own directory.
sys.path.insert(0, str(PROJECT_ROOT / "benchmarks"))
_spec = importlib.util.spec_from_file_location("loss_kernels", PROJECT_ROOT / "benchmarks" / "loss_kernels.py")
loss_kernels = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(loss_kernels)


@pytest.mark.parametrize("loss_name", loss_kernels.LOSSES)
def test_measurements_run(loss_name):
    device, ours, reference = loss_kernels.alternating_times(loss_name, 16, 2, min_seconds=0.0)
    assert device in ("cpu", "cuda") and all(math.isfinite(s) and s > 0 for s in (ours, reference))
    for impl in ("ours", "st"):
        results: queue.Queue = queue.Queue()
        loss_kernels._peak_memory(impl, loss_name, 16, 2, results)
        assert math.isfinite(results.get_nowait())
