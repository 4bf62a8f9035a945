"""The loss-kernel benchmark still runs against both implementations (tiny batches, in-process)."""

from __future__ import annotations

import importlib.util
import math
import queue

import pytest

from tests.conftest import PROJECT_ROOT

_spec = importlib.util.spec_from_file_location("loss_kernels", PROJECT_ROOT / "benchmarks" / "loss_kernels.py")
loss_kernels = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(loss_kernels)


@pytest.mark.parametrize("impl", ["ours", "st"])
@pytest.mark.parametrize("loss_name", loss_kernels.LOSSES)
def test_measurement_runs(impl, loss_name):
    results: queue.Queue = queue.Queue()
    loss_kernels._measure(impl, loss_name, 16, 2, 2, results)
    device, seconds, _ = results.get_nowait()
    assert device in ("cpu", "cuda") and math.isfinite(seconds) and seconds > 0
