"""Where a study keeps its files: ``runs/<study>/`` (storage, trials, final stage, exported trial table)."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from experiments.grid.grid_layout import GridLayout


class StudyLayout:
    """The directory of one study.

    ``optuna.db`` (or ``optuna.journal``) holds the search; ``trials/<loss>/trial-<n>/`` is each trial's run
    directory; ``final/<loss>__seed<k>/`` each final-stage run (a grid cell); ``trials.csv`` (with
    ``trials_search_space.json``) the exported search, which ``losslab report`` reads; ``STOP`` a request
    to stop after the current runs.

    Args:
        root: ``runs/<study>``.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def storage_file(self, kind: str) -> Path:
        """The Optuna storage file (``sqlite`` or ``journal``)."""
        return self.root / ("optuna.db" if kind == "sqlite" else "optuna.journal")

    def trial_dir(self, loss: str, number: int) -> Path:
        """Run directory of trial ``number`` of ``loss``."""
        return self.root / "trials" / loss / f"trial-{number:03d}"

    @property
    def final(self) -> GridLayout:
        """The final stage, laid out (and run) like a grid."""
        return GridLayout(self.root / "final")

    @property
    def workers(self) -> Path:
        """Logs of workers started by ``--workers N``."""
        return self.root / "_workers"

    @property
    def stop_file(self) -> Path:
        """``STOP``: written by ``losslab tune SPEC --stop``; workers finish their current run, then exit."""
        return self.root / "STOP"

    def stop_requested(self) -> bool:
        """Whether ``losslab tune SPEC --stop`` asked the workers to stop after their current run."""
        return self.stop_file.is_file()

    @contextmanager
    def ask_lock(self) -> Iterator[None]:
        """Held while a worker counts a loss's trials and asks for a new one, so budgets are never overrun."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".ask.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
