"""What ``losslab`` prints: third-party notices that tell a losslab user nothing, dropped where they start.

Every filter below matches one known message of one library (message text, category and emitting module or
logger), never a whole category or library, and says why dropping it is safe. Anything new or unexpected still
reaches the console. :func:`install_console_filters` is called once by the ``losslab`` entry point;
:func:`quiet_run_directory_notices` by the CLI once the run directory is known.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Warnings: (message regex, category name, emitting module regex); the comment above each says why it is safe.
_WARNINGS: tuple[tuple[str, str, str], ...] = (
    # MTEB: losslab evaluates exactly the task versions it is given (STSBenchmark and SICK-R v1 are the versions
    # published baselines use); a newer version is another task name, which `--evaluation.tasks` accepts.
    (r"The task '.*' is superseded by", "UserWarning", r"mteb\."),
    # Lightning: the hint is about multi-process jobs started without srun, which then hang. losslab's SLURM
    # launcher (submitit) starts every process with srun; a plain `losslab fit` on a node with srun runs there
    # on purpose.
    (
        r"The `srun` command is available on your system but is not used",
        "PossibleUserWarning",
        r"lightning_fabric\.plugins\.environments\.slurm",
    ),
    # Lightning's own use of a torch alias that torch deprecated; nothing a losslab user can change.
    (r"`isinstance\(treespec, LeafSpec\)` is deprecated", "FutureWarning", r"pytorch_lightning\.utilities\._pytree"),
    # Lightning only asks whether the DataLoader object has a state_dict. losslab's EmbeddingDataModule (the only
    # DataModule `losslab fit` builds) saves its position in the epoch in every checkpoint and resumes there:
    # tests/experiments/test_resume.py stops runs mid-epoch and gets identical metrics after resuming.
    (
        r"You're resuming from a checkpoint that ended before the epoch ended and your dataloader is not resumable",
        "PossibleUserWarning",
        r"pytorch_lightning\.loops\.training_epoch_loop",
    ),
)

# Log records: (logger name, message regex).
_LOG_RECORDS: tuple[tuple[str, str], ...] = (
    # MTEB logs the superseded-task notice as well as warning it (see above).
    ("mteb.abstasks.abstask", r"^The task '.*' is superseded by"),
    # An advertisement for Lightning's hosted logger, printed on every fit.
    ("lightning_utilities.core.rank_zero", r"^💡 Tip: For seamless cloud logging"),
)

# transformers' own progress bars over local files: every fit loads the encoder (and exports it), in well under
# a second for the models trained here. Downloads are huggingface_hub's bars, which stay.
_QUIET_PROGRESS_BARS = ("Loading weights", "Writing model shards")

_installed = False


class _DropMessages(logging.Filter):
    """Drops the records of one logger whose message matches ``pattern``."""

    def __init__(self, pattern: str) -> None:
        super().__init__()
        self.pattern = re.compile(pattern)

    def filter(self, record: logging.LogRecord) -> bool:
        """``False`` (drop) for the known notice."""
        return self.pattern.search(record.getMessage()) is None


def _category(name: str) -> type[Warning]:
    if name == "PossibleUserWarning":
        from lightning_fabric.utilities.warnings import PossibleUserWarning

        return PossibleUserWarning
    return {"UserWarning": UserWarning, "FutureWarning": FutureWarning}[name]


def _rank_zero_logger() -> logging.Logger:
    # Lightning's rank_zero_info logs through lightning_utilities' module logger, which Lightning renames on
    # import; filter the logger object it actually uses.
    import pytorch_lightning  # noqa: F401 - sets the logger below
    from lightning_utilities.core import rank_zero

    return rank_zero.log


def _quiet_transformers_progress_bars() -> None:
    from transformers.utils import logging as hf_logging

    set_hook: Callable[..., Any] | None = getattr(hf_logging, "set_tqdm_hook", None)
    if set_hook is None:  # older transformers: all its own bars off, huggingface_hub's download bars kept on
        import huggingface_hub.utils as hub_utils

        hub_disabled = hub_utils.are_progress_bars_disabled()
        hf_logging.disable_progress_bar()
        if not hub_disabled:
            hub_utils.enable_progress_bars()
        return
    previous: Callable[..., Any] | None = None

    def hook(factory: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if kwargs.get("desc") in _QUIET_PROGRESS_BARS:
            kwargs = {**kwargs, "disable": True}
        return previous(factory, args, kwargs) if previous is not None else factory(*args, **kwargs)

    previous = set_hook(hook)


def filter_known_warnings() -> None:
    """Add the warning filters of this module (to the current ``warnings`` filter list)."""
    for message, category, module in _WARNINGS:
        warnings.filterwarnings("ignore", message=message, category=_category(category), module=module)


def install_console_filters() -> None:
    """Drop the known third-party notices listed in this module (once per process: the ``losslab`` entry point)."""
    global _installed
    filter_known_warnings()  # again each time: a caller's catch_warnings() may have reset the list
    if _installed:
        return
    for name, pattern in _LOG_RECORDS:
        logger = _rank_zero_logger() if name == "lightning_utilities.core.rank_zero" else logging.getLogger(name)
        logger.addFilter(_DropMessages(pattern))
    _quiet_transformers_progress_bars()
    _installed = True


def quiet_run_directory_notices(run_dir: str | Path) -> None:
    """Drop Lightning's "exists and is not empty" warnings about this run's own directories.

    The run directory holds ``metrics.csv`` beside ``config.yaml``, and ``checkpoints/`` that a resumed run
    continues: both are losslab's own files, written there on purpose. Other directories still warn.

    Args:
        run_dir: The run directory (as given, and resolved: Lightning reports either form).
    """
    for directory in {Path(run_dir), Path(run_dir).resolve()}:
        for what, path in (
            ("Checkpoint directory", directory / "checkpoints"),
            ("Experiment logs directory", directory),
        ):
            warnings.filterwarnings("ignore", message=f"{what} {re.escape(str(path))}/? exists and is not empty")
