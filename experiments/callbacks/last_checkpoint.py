"""``checkpoints/last.ckpt``: what a killed, preempted or requeued fit resumes from."""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import threading
from pathlib import Path
from types import FrameType
from typing import Any

import pytorch_lightning as pl
from pytorch_lightning.callbacks import Callback
from pytorch_lightning.loggers import CSVLogger
from pytorch_lightning.utilities import rank_zero_info, rank_zero_warn
from pytorch_lightning.utilities.exceptions import SIGTERMException

from core.trainer_progress import validation_follows_this_batch
from experiments.atomic_io import atomic_write_text

LAST_CHECKPOINT = Path("checkpoints") / "last.ckpt"


def _read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a CSV history (empty when there is no file yet)."""
    if not path.is_file():
        return [], []
    with open(path, newline="", encoding="utf-8") as handle:
        header, *rows = list(csv.reader(handle)) or [[]]
    return header, rows


def _slurm_job_id() -> str | None:
    array_job = os.environ.get("SLURM_ARRAY_JOB_ID")
    if array_job is not None:
        return f"{array_job}_{os.environ['SLURM_ARRAY_TASK_ID']}"
    return os.environ.get("SLURM_JOB_ID")


class LastCheckpoint(Callback):
    """Keeps ``<run_dir>/checkpoints/last.ckpt`` current, always at a step boundary, written atomically.

    Saved at every validation (after the ``ModelCheckpoint`` callbacks, so it holds their verdict on it),
    every ``every_n_train_steps`` optimizer steps when set, and when the fit is asked to stop: on SIGTERM
    (the current step finishes, and so does a validation due after it; then this saves) and on SIGUSR1 —
    SLURM's advance warning before a time limit or preemption (``sbatch --signal=USR1@<seconds>``) — which
    stops the same way and then requeues a SLURM job (``scontrol requeue``); the process exits as
    interrupted. The logger history is flushed with every checkpoint, so a resumed run
    (``losslab fit --resume <run_dir>``) continues it without gaps.

    Args:
        every_n_train_steps: Also save every N optimizer steps (``None``: at validations and signals only).
        requeue_on_signal: On SIGUSR1 under SLURM, requeue the job after saving.
    """

    def __init__(self, every_n_train_steps: int | None = None, requeue_on_signal: bool = True) -> None:
        if every_n_train_steps is not None and every_n_train_steps < 1:
            raise ValueError(f"every_n_train_steps={every_n_train_steps}: expected a positive integer or None")
        self.every_n_train_steps = every_n_train_steps
        self.requeue_on_signal = requeue_on_signal
        self._stop_requested = False
        self._training = False
        self._saved_at: int | None = None
        self._previous_handler: Any = None
        self._lightning_sigterm: Any = None  # Lightning's SIGTERM handler while ours holds a signal back
        self._signal_pending = False
        self._history_rows: dict[str, int] = {}
        self._trainer: pl.Trainer | None = None

    # ----------------------------------------------------------------- the logger history in checkpoints
    def state_dict(self) -> dict[str, Any]:
        """How many rows each CSV history held when the checkpoint was taken (just flushed)."""
        trainer = self._trainer
        paths = self._csv_loggers(trainer) if trainer is not None else {}
        return {"history_rows": {path: len(_read_rows(Path(path))[1]) for path in paths}}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Remember how much history the resumed-from checkpoint had."""
        self._history_rows = dict(state_dict.get("history_rows", {}))

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Cut each CSV history back to the resumed-from checkpoint (steps after it are trained again).

        A fresh fit starts an empty history, even in a directory an earlier attempt left behind.
        """
        if not trainer.is_global_zero:
            return
        for path, logger in self._csv_loggers(trainer).items():
            keep = self._history_rows.get(path, 0) if trainer.ckpt_path is not None else 0
            header, rows = _read_rows(Path(path))
            writer = logger.experiment
            if not header:
                continue
            text = io.StringIO()
            csv.writer(text, lineterminator="\n").writerows([header, *rows[:keep]])
            atomic_write_text(Path(path), text.getvalue())
            # The writer appends under this header (and rewrites the file if new columns appear later).
            writer.metrics_keys = list(header)

    @staticmethod
    def _csv_loggers(trainer: pl.Trainer) -> dict[str, CSVLogger]:
        return {
            str(Path(logger.log_dir) / "metrics.csv"): logger
            for logger in trainer.loggers
            if isinstance(logger, CSVLogger)
        }

    # ----------------------------------------------------------------- signals
    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        """Take SIGUSR1 before Lightning does (it then keeps ours instead of its own, which saves mid-step)."""
        self._trainer = trainer
        if stage == "fit" and hasattr(signal, "SIGUSR1"):
            self._previous_handler = signal.signal(signal.SIGUSR1, self._on_sigusr1)
        # Validation-time saves come after the ModelCheckpoints' own on_validation_end (Lightning moves those
        # to the end of the list), or last.ckpt would hold the best-checkpoint state of the validation before.
        if self in trainer.callbacks:
            trainer.callbacks.remove(self)
            trainer.callbacks.append(self)

    def teardown(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        """Give SIGUSR1 back."""
        if stage == "fit" and hasattr(signal, "SIGUSR1") and self._previous_handler is not None:
            signal.signal(signal.SIGUSR1, self._previous_handler)
            self._previous_handler = None
        self._restore_sigterm()

    def _on_sigusr1(self, signum: int, frame: FrameType | None) -> None:
        # Turned into Lightning's SIGTERM stop: the step in progress finishes and logs, then training raises
        # and on_exception saves; saving here, mid-step, could catch the optimizer half-way.
        self._stop_requested = True
        os.kill(os.getpid(), signal.SIGTERM)

    # Lightning stops on SIGTERM at the next batch boundary, but a validation interrupted half-way is lost:
    # a run resumed from there skips it (or, at the last step, never validates). So while training, a stop
    # signal waits for the validation due after the current batch, and is handed to Lightning after it.
    def _hold_sigterm(self, signum: int, frame: FrameType | None) -> None:
        self._signal_pending = True

    def _restore_sigterm(self) -> None:
        if self._lightning_sigterm is not None:
            signal.signal(signal.SIGTERM, self._lightning_sigterm)
            self._lightning_sigterm = None

    def _hand_over_signal(self) -> None:
        """If a stop signal was held back: give SIGTERM back to Lightning, and the signal; training stops here."""
        if self._signal_pending:
            self._signal_pending = False
            self._restore_sigterm()
            os.kill(os.getpid(), signal.SIGTERM)

    # ----------------------------------------------------------------- when to save
    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """From here until the end of training, checkpoints describe the run in progress."""
        self._training = True
        if threading.current_thread() is threading.main_thread():  # signal handlers live in the main thread
            self._lightning_sigterm = signal.signal(signal.SIGTERM, self._hold_sigterm)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Training is over: the final state is saved, and later hooks (best-weights export) change the model."""
        if self._saved_at != trainer.global_step:
            self.save(trainer)
        self._training = False
        self._hand_over_signal()
        self._restore_sigterm()

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Save after every validation of a fit."""
        if self._training and not trainer.sanity_checking:
            self.save(trainer)
            self._hand_over_signal()

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, *args: Any) -> None:
        """Save every N steps (before this step's metrics row is written: a run resumed from here lacks it)."""
        every = self.every_n_train_steps
        if every is not None and trainer.global_step % every == 0:
            self.save(trainer)
        if self._signal_pending and not validation_follows_this_batch(trainer):
            self._hand_over_signal()

    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException) -> None:
        """Lightning stopped on SIGTERM after finishing a step: save it; after SIGUSR1 under SLURM, requeue."""
        self._restore_sigterm()
        if not isinstance(exception, SIGTERMException) or not self._training:
            return
        if self._saved_at != trainer.global_step:
            self.save(trainer)
        job = _slurm_job_id()
        if self._stop_requested and self.requeue_on_signal and job is not None and trainer.is_global_zero:
            rank_zero_info(f"SIGUSR1: saved {LAST_CHECKPOINT} at step {trainer.global_step}; requeueing job {job}")
            subprocess.run(["scontrol", "requeue", job], check=False)

    # ----------------------------------------------------------------- saving
    def save(self, trainer: pl.Trainer) -> None:
        """Flush the loggers and write ``last.ckpt`` for the current step."""
        for logger in trainer.loggers:
            logger.save()
        path = Path(trainer.default_root_dir) / LAST_CHECKPOINT
        partial = path.with_name(f".{path.name}.partial")
        # Every rank takes part (the strategy writes on rank 0); a rename makes the new file appear whole.
        # The full state (optimizer, loops, callbacks): a resume needs all of it.
        trainer.save_checkpoint(partial, weights_only=False)
        trainer.strategy.barrier("last_checkpoint")
        if trainer.is_global_zero:
            if partial.is_file():
                os.replace(partial, path)
            else:
                rank_zero_warn(f"{partial} was not written; {path} is unchanged")
        self._saved_at = trainer.global_step
