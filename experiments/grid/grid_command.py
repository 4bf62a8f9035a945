"""``losslab grid list|run SPEC``: show and run the cells of a loss-comparison grid."""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
from pathlib import Path
from types import FrameType

from experiments.grid.cell_launcher import SubprocessLauncher
from experiments.grid.grid_cell import GridCell
from experiments.grid.grid_expansion import expand_grid
from experiments.grid.grid_layout import CellStatus, GridLayout
from experiments.grid.grid_runner import GridRunner
from experiments.grid.grid_spec import GridSpec, resolve_spec_path
from experiments.grid.wall_time_estimate import estimate_wall_time, format_duration

SMOKE_SECONDS_PER_CELL = 60.0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="losslab grid",
        description="Expand a grid spec (experiments/grids/<name>.yaml) into cells and run each cell as its "
        "own `losslab fit` process in runs/<grid>/<cell id>/. Finished cells (metrics.json) are skipped, "
        "interrupted ones moved aside and rerun, failures recorded in <cell id>.failed.json. Any further "
        "--dotted.key value pairs are passed to every cell's `losslab fit`.",
    )
    actions = parser.add_subparsers(dest="action", required=True)
    for name, text in (("list", "print the cells and their status"), ("run", "run the cells not yet done")):
        sub = actions.add_parser(name, help=text, description=text)
        sub.add_argument("spec", help="grid spec file or built-in grid name (triplet_variants, ...)")
        sub.add_argument(
            "--runs-dir",
            default=None,
            help="root of grid run directories (default runs/, or runs/smoke/ with --max-steps or --fast-dev-run)",
        )
    run = actions.choices["run"]
    run.add_argument("--cell", type=int, action="append", default=None, help="run only this cell index (repeatable)")
    run.add_argument("--dry-run", action="store_true", help="print the cells and their commands; run nothing")
    run.add_argument("--max-steps", type=int, default=None, help="smoke run: stop every cell after N steps")
    run.add_argument("--fast-dev-run", action="store_true", help="smoke run: Lightning's fast_dev_run")
    run.add_argument("--retry-failed", action="store_true", help="also rerun cells that failed before")
    return parser


def _smoke_args(max_steps: int | None, fast_dev_run: bool) -> list[str]:
    args = []
    if max_steps is not None:
        if max_steps < 1:
            raise ValueError(f"--max-steps={max_steps}: expected a positive integer")
        steps = str(max_steps)
        args += ["--trainer.max_steps", steps, "--trainer.val_check_interval", steps]
        args += ["--trainer.limit_val_batches", steps, "--trainer.log_every_n_steps", "1"]
    if fast_dev_run:
        args += ["--trainer.fast_dev_run", "true"]
    return args


def _print_cells(cells: list[GridCell], layout: GridLayout) -> None:
    width = max(len(c.cell_id) for c in cells)
    print(f"{'idx':>4}  {'cell id':<{width}}  {'status':<11}  label")
    for cell in cells:
        status = layout.status(cell)
        print(f"{cell.index:>4}  {cell.cell_id:<{width}}  {status.value:<11}  {cell.label}")
        if status is CellStatus.REFUSED:
            print(f"{'':>4}  refused: {cell.refused}")
        elif status is CellStatus.FAILED:
            failure = layout.failure(cell) or {}
            print(f"{'':>4}  failed with exit code {failure.get('returncode')}; see {layout.failed_path(cell)}")


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    # A terminated worker stops its cell's process too (see SubprocessLauncher) and releases its claim.
    raise KeyboardInterrupt


def main(argv: list[str]) -> int:
    """Entry point of ``losslab grid``; returns 0, 1 (some cell failed) or 2 (bad spec or arguments)."""
    parser = _parser()
    args, fit_overrides = parser.parse_known_args(argv)
    if fit_overrides and not fit_overrides[0].startswith("--"):
        parser.error(f"unexpected argument {fit_overrides[0]!r}")
    smoke = args.action == "run" and (args.max_steps is not None or args.fast_dev_run)
    try:
        spec = GridSpec.from_yaml(resolve_spec_path(args.spec))
        extra = _smoke_args(args.max_steps, args.fast_dev_run) if args.action == "run" else []
        cells = expand_grid(spec, [*extra, *fit_overrides])
        selected = cells
        if args.action == "run" and args.cell is not None:
            wrong = [i for i in args.cell if not 0 <= i < len(cells)]
            if wrong:
                raise ValueError(f"--cell {wrong}: expected indices between 0 and {len(cells) - 1}")
            selected = [cells[i] for i in args.cell]
    except ValueError as err:
        print(f"losslab grid: error: {err}", file=sys.stderr)
        return 2
    runs_dir = Path(args.runs_dir or ("runs/smoke" if smoke else "runs"))
    layout = GridLayout(runs_dir / spec.name)
    refused = sum(c.refused is not None for c in cells)
    print(f"grid {spec.name}: {len(cells)} cells ({refused} refused) in {layout.root}")
    _print_cells(cells, layout)
    if args.action == "list":
        return 0
    runnable = {CellStatus.PENDING, CellStatus.INTERRUPTED} | ({CellStatus.FAILED} if args.retry_failed else set())
    to_run = [c for c in selected if layout.status(c) in runnable]
    stated = SMOKE_SECONDS_PER_CELL if smoke else spec.estimate_minutes_per_cell * 60
    seconds, source = estimate_wall_time(cells, len(to_run), layout, stated)
    print(f"to run: {len(to_run)} of {len(selected)} selected cells, about {format_duration(seconds)} ({source})")
    if args.dry_run:
        for cell in to_run:
            print(f"[{cell.index}] losslab " + shlex.join(cell.fit_args(layout.run_dir(cell))))
        return 0
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    runner = GridRunner(selected, layout, SubprocessLauncher(), retry_failed=args.retry_failed)
    try:
        outcome = runner.run()
    except KeyboardInterrupt:
        print("interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    print(", ".join(f"{n} {state}" for state, n in sorted(outcome.items())) or "nothing to run")
    return 1 if outcome["failed"] else 0
