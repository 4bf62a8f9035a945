"""The run directory's ``metrics.csv``: Lightning's CSV logger, but one that a resumed fit continues."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jsonargparse import Namespace
from pytorch_lightning.loggers import CSVLogger
from pytorch_lightning.utilities.rank_zero import rank_zero_only


class RunHistoryLogger(CSVLogger):
    """The run's training history, ``<run_dir>/metrics.csv``: a ``CSVLogger`` that keeps the file it finds.

    Lightning's writer removes an existing history when it starts, which would lose a resumed run's
    first steps; :class:`~experiments.callbacks.LastCheckpoint` instead cuts the history back to the
    checkpoint it resumes from (and clears it for a fresh fit). ``losslab fit`` always logs with it, as its
    first logger (checkpoints go to ``<run_dir>/checkpoints`` through it); ``--trainer.logger`` adds others.

    Args:
        save_dir: The run directory. ``losslab fit`` sets it to ``--run_dir`` (``null`` in ``--print_config``,
            the path in the run's ``config.yaml``).
        flush_logs_every_n_steps: Write the file every N logged steps (and at every checkpoint).
    """

    def __init__(self, save_dir: str | None = None, flush_logs_every_n_steps: int = 100) -> None:
        if save_dir is None:
            raise ValueError("RunHistoryLogger: save_dir must be the run directory (losslab fit sets --run_dir)")
        # No name/version subfolders: metrics.csv sits in the run directory itself.
        super().__init__(save_dir, name="", version="", flush_logs_every_n_steps=flush_logs_every_n_steps)

    @property
    def experiment(self) -> Any:
        """The CSV writer, created on first use with the existing history kept in place."""
        if self._experiment is not None or rank_zero_only.rank != 0:
            return super().experiment
        path = Path(self.log_dir) / "metrics.csv"
        kept = path.read_bytes() if path.is_file() else None
        writer = super().experiment
        if kept is not None:
            path.write_bytes(kept)
        return writer


def with_run_history(loggers: Any, run_dir: str | Path) -> list[Namespace]:
    """``trainer.logger`` as the run has it: its :class:`RunHistoryLogger` first, then the configured others.

    Args:
        loggers: The parsed ``trainer.logger`` value: a list of ``class_path`` entries, one entry (a logger
            given on its own replaces the list, as in any Lightning CLI), or ``None``/``True``/``False``
            (no further loggers: the run history is part of every run, W&B follows ``--wandb.mode``).
        run_dir: The run directory, which the history always writes to (a config reused from another run
            directory keeps its own).

    Returns:
        The entries, the run history's first with ``save_dir`` set to ``run_dir``.
    """
    entries = list(loggers) if isinstance(loggers, list) else [] if loggers in (None, True, False) else [loggers]
    path = f"{RunHistoryLogger.__module__}.{RunHistoryLogger.__qualname__}"
    history = next((e for e in entries if e.class_path == path), None)
    if history is None:
        history = Namespace(class_path=path, init_args=Namespace(flush_logs_every_n_steps=100))
    history.init_args.save_dir = str(run_dir)
    return [history, *(e for e in entries if e.class_path != path)]
