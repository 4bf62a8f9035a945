"""The ``losslab`` command: Lightning CLI subcommands (fit/validate) plus losslab's own tools."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from pytorch_lightning.utilities.exceptions import SIGTERMException

from core.errors import SetupError
from experiments.commands import TOOL_COMMANDS
from experiments.exit_codes import INTERRUPTED, SETUP_ERROR
from experiments.lightning_cli import CONFIG_DIR, DEFAULTS, run_lightning_cli
from experiments.resume import resume_arguments, split_resume
from experiments.wandb_logging import finish_wandb

__all__ = ["CONFIG_DIR", "DEFAULTS", "INTERRUPTED", "main"]


def main(args: Sequence[str] | None = None) -> int:
    """Entry point of ``losslab``.

    ``losslab fit|validate ...`` run the Lightning CLI (``fit --resume RUN_DIR`` continues a killed run);
    ``losslab eval|losses|grid|report ...`` run losslab's tools. Setup errors (unknown names, bad data,
    incompatible loss and data) print one line and return 2 before any training.

    Args:
        args: Command-line arguments without the program name (``None``: ``sys.argv[1:]``).

    Returns:
        The process exit code.
    """
    argv = list(sys.argv[1:] if args is None else args)
    if argv and argv[0] in TOOL_COMMANDS:
        return TOOL_COMMANDS[argv[0]](argv[1:])
    try:
        resume_dir, rest = split_resume(argv)
        if resume_dir is not None:
            argv = resume_arguments(resume_dir, rest)
        # None lets LightningCLI read sys.argv itself (explicit args would make it warn on every command).
        run_lightning_cli(None if args is None and resume_dir is None else argv)
    except SetupError as err:
        print(f"losslab: error: {err}", file=sys.stderr)
        return SETUP_ERROR
    except SIGTERMException:
        # Stopped by SIGTERM/SIGUSR1 at a step boundary, last.ckpt saved: interrupted, not finished.
        print("losslab: interrupted; continue with: losslab fit --resume <run_dir>", file=sys.stderr)
        return INTERRUPTED
    finally:
        finish_wandb()
    return 0


if __name__ == "__main__":
    sys.exit(main())
