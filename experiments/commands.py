"""losslab's own subcommands next to the Lightning CLI ones: ``eval``, ``losses``, ``grid``, ``report``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from experiments.hub.push_command import main as push_command


def eval_command(argv: list[str]) -> int:
    """``losslab eval --model M --tasks T [T ...] [--output-dir DIR]``: MTEB evaluation of any model."""
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
        )
    except EvaluationInputError as err:
        print(f"losslab eval: error: {err}", file=sys.stderr)
        return 2
    return 0


def losses_command(argv: list[str]) -> int:
    """``losslab losses``: print the loss table."""
    from experiments.loss_table import loss_table_markdown

    argparse.ArgumentParser(prog="losslab losses", description="List every loss.").parse_args(argv)
    print(loss_table_markdown())
    return 0


def grid_command(argv: list[str]) -> int:
    """``losslab grid list|run SPEC``: expand a loss-comparison grid and run its cells, resumably."""
    from experiments.grid.grid_command import main as grid_main

    return grid_main(argv)


def report_command(argv: list[str]) -> int:
    """``losslab report SPEC|RUNS_DIR``: leaderboards and plots rebuilt from a grid's run directories."""
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
