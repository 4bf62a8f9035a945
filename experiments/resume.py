"""``losslab fit --resume RUN_DIR``: the arguments that continue a killed run in its own directory."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from core.errors import SetupError
from experiments.callbacks.last_checkpoint import LAST_CHECKPOINT
from experiments.callbacks.run_finalizer import METRICS_FILE

CONFIG_FILE = "config.yaml"


def resume_arguments(run_dir: str | Path, extra: Sequence[str] = ()) -> list[str]:
    """``fit`` arguments that rerun ``run_dir``'s own saved config from its ``last.ckpt``.

    Model, optimizer, scheduler, loop progress, the DataModule's position in the epoch, the global RNGs
    and the end-of-run callback's state come back from the checkpoint, so on CPU the resumed run's
    ``metrics.json`` equals an uninterrupted run's.

    Args:
        run_dir: The interrupted run's directory.
        extra: Further ``fit`` arguments (applied after the saved config, e.g. more ``--trainer.max_time``).

    Raises:
        SetupError: The directory holds no run, a finished run, or no checkpoint yet.
    """
    run_dir = Path(run_dir)
    config = run_dir / CONFIG_FILE
    checkpoint = run_dir / LAST_CHECKPOINT
    if not config.is_file():
        raise SetupError(f"--resume {run_dir}: no {CONFIG_FILE} there; expected the directory of a losslab fit")
    if (run_dir / METRICS_FILE).is_file():
        raise SetupError(f"--resume {run_dir}: the run already finished ({METRICS_FILE} exists); nothing to resume")
    if not checkpoint.is_file():
        raise SetupError(
            f"--resume {run_dir}: no {LAST_CHECKPOINT} (the run stopped before its first checkpoint); "
            f"start it again with: losslab fit --config {config} --run_dir NEW_DIR"
        )
    return ["fit", "--config", str(config), *extra, "--run_dir", str(run_dir), "--ckpt_path", str(checkpoint)]


def split_resume(argv: Sequence[str]) -> tuple[str | None, list[str]]:
    """``(run_dir, remaining fit arguments)`` when ``argv`` is ``fit ... --resume RUN_DIR ...``, else ``(None, argv)``.

    Raises:
        SetupError: ``--resume`` without a directory.
    """
    args = list(argv)
    if not args or args[0] != "fit" or "--resume" not in args:
        return None, args
    index = args.index("--resume")
    if index + 1 >= len(args) or args[index + 1].startswith("--"):
        raise SetupError("--resume: expected the run directory to continue, e.g. --resume runs/quickstart/<stamp>")
    return args[index + 1], args[1:index] + args[index + 2 :]
