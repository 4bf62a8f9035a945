"""The run directory's ``metrics.csv``: Lightning's CSV logger, but one that a resumed fit continues."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pytorch_lightning.loggers import CSVLogger
from pytorch_lightning.utilities.rank_zero import rank_zero_only


class RunHistoryLogger(CSVLogger):
    """A ``CSVLogger`` whose writer does not delete the ``metrics.csv`` it finds.

    Lightning's writer removes an existing history when it starts, which would lose a resumed run's
    first steps; :class:`~experiments.callbacks.LastCheckpoint` instead cuts the history back to the
    checkpoint it resumes from (and clears it for a fresh fit).
    """

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
