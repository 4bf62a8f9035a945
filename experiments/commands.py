"""losslab's own subcommands next to the Lightning CLI ones (``fit``, ``validate``).

Each tool is a function ``argv -> exit code`` registered in :data:`TOOL_COMMANDS`; the first line of its
docstring is its one-line description in ``losslab --help``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from experiments.hub.push_command import main as push_command


def eval_command(argv: list[str]) -> int:
    """Evaluate any model with MTEB: a Hub id, a model directory, a run directory or a checkpoint."""
    from experiments.evaluation.eval_command import EvaluationInputError, evaluate_model

    parser = argparse.ArgumentParser(
        prog="losslab eval",
        description="Evaluate a model with MTEB: a Hub name, the embedded all-MiniLM-L6-v2, a local "
        "HF/sentence-transformers directory, a losslab run directory or a Lightning checkpoint.",
    )
    parser.add_argument("--model", default="sentence-transformers/all-MiniLM-L6-v2", help="model reference")
    parser.add_argument("--tasks", nargs="+", default=["STSBenchmark", "SICK-R"], help="MTEB task names")
    parser.add_argument("--output-dir", default=None, help="where MTEB result JSON is written")
    parser.add_argument("--data-dir", default=None, help="data directory (default: LOSSLAB_DATA_DIR)")
    parser.add_argument("--source", choices=["auto", "local", "hub"], default="auto", help="task data source")
    parser.add_argument("--batch-size", type=int, default=128, help="sentences per forward pass")
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="fp32", help="encoding precision")
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace result files of the same model revision in --output-dir (otherwise they stop the evaluation)",
    )
    args = parser.parse_args(argv)
    try:
        evaluate_model(
            model=args.model,
            tasks=args.tasks,
            output_dir=args.output_dir,
            data_dir=args.data_dir,
            source=args.source,
            batch_size=args.batch_size,
            precision=args.precision,
            overwrite=args.overwrite,
        )
    except EvaluationInputError as err:
        print(f"losslab eval: error: {err}", file=sys.stderr)
        return 2
    return 0


def losses_command(argv: list[str]) -> int:
    """Print the table of every loss: batch formats, sampler, options."""
    from experiments.loss_table import loss_table_markdown

    argparse.ArgumentParser(prog="losslab losses", description="List every loss.").parse_args(argv)
    print(loss_table_markdown())
    return 0


def grid_command(argv: list[str]) -> int:
    """Expand a loss-comparison grid and run its cells, resumably (list, run)."""
    from experiments.grid.grid_command import main as grid_main

    return grid_main(argv)


def report_command(argv: list[str]) -> int:
    """Rebuild leaderboards and plots from a grid's run directories."""
    from experiments.report.report_command import main as report_main

    return report_main(argv)


def tune_command(argv: list[str]) -> int:
    """``losslab tune SPEC``: per-loss hyperparameter search at an equal budget, then a multi-seed final stage."""
    from experiments.tune.tune_command import main as tune_main

    return tune_main(argv)


TOOL_COMMANDS: dict[str, Callable[[list[str]], int]] = {
    "eval": eval_command,
    "losses": losses_command,
    "grid": grid_command,
    "tune": tune_command,
    "report": report_command,
    "push": push_command,
}
