"""Run a function in a real multi-process CPU (gloo) process group, for tests of gathered losses."""

from __future__ import annotations

import gc
import socket
from collections.abc import Callable
from typing import Any

import torch.distributed as dist
import torch.multiprocessing as mp


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _entry(rank: int, world_size: int, port: int, fn: Callable[..., None], args: tuple[Any, ...]) -> None:
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world_size)
    try:
        fn(rank, *args)
        # DDP wrappers sit in reference cycles: collect them while the process group still exists, or their
        # reducers are torn down after it, at interpreter exit, which can abort the process ("terminate
        # called without an active exception"). Then meet, so no peer still has traffic in flight.
        gc.collect()
        dist.barrier()
    finally:
        dist.destroy_process_group()


def run_distributed(fn: Callable[..., None], world_size: int, *args: Any) -> None:
    """Call ``fn(rank, *args)`` in ``world_size`` processes sharing a gloo group (``fn``: picklable)."""
    mp.spawn(_entry, args=(world_size, _free_port(), fn, args), nprocs=world_size, join=True)
