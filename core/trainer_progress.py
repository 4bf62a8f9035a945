"""The three facts about a running Trainer that Lightning keeps in private or loop-internal state.

Isolated here, so one module knows Lightning's internals; ``tests/core/test_trainer_progress.py`` pins
them to the Lightning versions ``pyproject.toml`` allows.
"""

from __future__ import annotations

import pytorch_lightning as pl
from pytorch_lightning.trainer.states import TrainerFn


def logs_this_step(trainer: pl.Trainer | None) -> bool:
    """Whether Lightning writes step-level metrics on the current training step (``log_every_n_steps``).

    Values logged on other steps are discarded, so statistics computed on access cost nothing there.
    Without a trainer every step counts as a logging step.
    """
    if trainer is None:
        return True
    return bool(trainer._logger_connector.should_update_logs)


def batches_trained_this_epoch(trainer: pl.Trainer | None) -> int | None:
    """Training batches of the current epoch handed to ``training_step`` so far, while fitting; else ``None``.

    The loader draws batches ahead of the step (prefetching, workers), so a sampler's own count runs
    ahead of what was trained on; this is the trainer's count.
    """
    if trainer is None or trainer.state.fn != TrainerFn.FITTING:
        return None
    return int(trainer.fit_loop.epoch_loop.batch_progress.current.ready)


def validation_follows_this_batch(trainer: pl.Trainer) -> bool:
    """Whether the fit validates right after the training batch now ending (call from ``on_train_batch_end``).

    Lightning decides this after the batch hooks (``val_check_interval``, the epoch's last batch, an early
    stop); the decision itself is loop-internal.
    """
    epoch_loop = trainer.fit_loop.epoch_loop
    return bool(epoch_loop._should_check_val_fx(trainer.fit_loop._data_fetcher))
