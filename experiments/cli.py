"""The ``losslab`` command: Lightning CLI subcommands (fit/validate) plus losslab's own tools."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping, Sequence

from pytorch_lightning.utilities.exceptions import SIGTERMException

from core.errors import SetupError
from experiments.commands import TOOL_COMMANDS
from experiments.console import install_console_filters
from experiments.exit_codes import INTERRUPTED, SETUP_ERROR
from experiments.lightning_cli import CONFIG_DIR, DEFAULTS, run_lightning_cli
from experiments.resume import resume_arguments, split_resume
from experiments.wandb_logging import finish_wandb

__all__ = ["CONFIG_DIR", "DEFAULTS", "INTERRUPTED", "main", "tools_help"]


def _summary(command: Callable[[list[str]], int]) -> str:
    """A tool's one-line description: its docstring's first line (a leading ````losslab x ...``:```` dropped)."""
    first = (command.__doc__ or "").strip().splitlines()[0] if (command.__doc__ or "").strip() else ""
    summary = re.sub(r"^``[^`]+``:\s*", "", first)
    return summary[:1].upper() + summary[1:]


def tools_help(tools: Mapping[str, Callable[[list[str]], int]] = TOOL_COMMANDS) -> str:
    """The ``losslab --help`` section that lists losslab's own tools, one line each.

    Args:
        tools: Tool name -> command (default: every registered tool).
    """
    width = max(19, *(len(name) for name in tools))  # the column argparse aligns fit/validate to
    lines = ["losslab tools (for details: losslab TOOL --help):"]
    lines += [f"    {name:<{width}} {_summary(command)}" for name, command in tools.items()]
    return "\n".join(lines) + "\n"


def main(args: Sequence[str] | None = None) -> int:
    """Entry point of ``losslab``.

    ``losslab fit|validate ...`` run the Lightning CLI (``fit --resume RUN_DIR`` continues a killed run);
    ``losslab TOOL ...`` runs one of losslab's tools (:data:`~experiments.commands.TOOL_COMMANDS`);
    ``losslab`` alone or ``losslab --help`` lists both. Setup errors (unknown names, bad data, incompatible
    loss and data) print one line and return 2 before any training.

    Args:
        args: Command-line arguments without the program name (``None``: ``sys.argv[1:]``).

    Returns:
        The process exit code.
    """
    install_console_filters()
    argv = list(sys.argv[1:] if args is None else args)
    if argv and argv[0] in TOOL_COMMANDS:
        return TOOL_COMMANDS[argv[0]](argv[1:])
    try:
        resume_dir, rest = split_resume(argv)
        if resume_dir is not None:
            argv = resume_arguments(resume_dir, rest)
        # Nothing to do: the help, which lists every subcommand and tool (as `pip` does).
        argv = argv or ["--help"]
        if args is None:
            # LightningCLI reads the command line itself (given args too, it warns that they differ); a resumed
            # or bare command is rewritten first.
            sys.argv[1:] = argv
        run_lightning_cli(None if args is None else argv, epilog=tools_help())
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
