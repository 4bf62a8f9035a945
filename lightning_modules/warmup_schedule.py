"""Learning-rate schedules with warm-up, from transformers' scheduler functions."""

from __future__ import annotations

from typing import Literal

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler
from transformers import get_scheduler

ScheduleName = Literal["linear", "cosine", "constant_with_warmup", "polynomial", "inverse_sqrt"]


class WarmupSchedule:
    """Linear warm-up over ``warmup_ratio`` of the training steps, then ``name``'s decay, stepped per batch.

    ``linear`` (the default; sentence-transformers' and Hugging Face's) decays linearly to 0 at the last
    step, ``cosine`` follows half a cosine to 0, ``constant_with_warmup`` stays at the peak. Any other
    schedule is injectable as a plain ``torch.optim.lr_scheduler`` class (``LRSchedulerCallable``).

    Args:
        name: The decay after warm-up (transformers' ``get_scheduler`` name).
        warmup_ratio: Fraction of the training steps with linear warm-up from 0.
    """

    def __init__(self, name: ScheduleName = "linear", warmup_ratio: float = 0.1) -> None:
        if not 0.0 <= warmup_ratio < 1.0:
            raise ValueError(f"lr_scheduler.warmup_ratio={warmup_ratio}: expected a fraction in [0, 1)")
        self.name = name
        self.warmup_ratio = warmup_ratio

    def build(self, optimizer: Optimizer, num_training_steps: int) -> LRScheduler:
        """The scheduler for a run of ``num_training_steps`` optimizer steps."""
        return get_scheduler(
            self.name,
            optimizer,
            num_warmup_steps=int(num_training_steps * self.warmup_ratio),
            num_training_steps=num_training_steps,
        )
