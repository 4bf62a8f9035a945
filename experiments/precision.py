"""Choose the training precision: bf16 autocast where the hardware runs it fast, fp32 otherwise."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

import torch

Autocast = Literal["auto", "bf16", "off"]


@cache
def cpu_supports_bf16() -> bool:
    """Whether this CPU has native bf16 arithmetic (AVX512-BF16 or AMX), read from ``/proc/cpuinfo``."""
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.is_file():
        return False
    flags = set()
    for line in cpuinfo.read_text().splitlines():
        if line.startswith("flags"):
            flags.update(line.split(":", 1)[1].split())
            break
    return bool(flags & {"avx512_bf16", "amx_bf16"})


def resolve_precision(autocast: Autocast, configured: str | int | None, accelerator: str) -> str | int | None:
    """Return the Trainer precision for an ``--autocast`` choice.

    Args:
        autocast: ``auto`` (bf16-mixed when the device runs bf16 natively, else keep ``configured``),
            ``bf16`` (always bf16-mixed) or ``off`` (keep ``configured``).
        configured: The ``trainer.precision`` from the config.
        accelerator: The ``trainer.accelerator`` from the config.

    Returns:
        The precision to pass to the Trainer.
    """
    if autocast == "bf16":
        return "bf16-mixed"
    if autocast == "off":
        return configured
    if accelerator in ("gpu", "cuda") or (accelerator == "auto" and torch.cuda.is_available()):
        return "bf16-mixed" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else configured
    return "bf16-mixed" if cpu_supports_bf16() else configured
