"""``losslab grid status|run SPEC``: show and run the cells of a loss-comparison grid, here or on SLURM."""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
from pathlib import Path
from types import FrameType

from experiments.grid.cell_config_parser import CellConfigParser
from experiments.grid.cell_launcher import SubprocessLauncher
from experiments.grid.cell_state import CellState, CellStateReader
from experiments.grid.grid_cell import GridCell
from experiments.grid.grid_expansion import expand_grid
from experiments.grid.grid_layout import CellStatus, GridLayout
from experiments.grid.grid_runner import MAX_FAILURES, GridRunner
from experiments.grid.grid_spec import GridSpec, resolve_spec_path
from experiments.grid.run_cell import cell_fit_args
from experiments.grid.slurm_grid import SlurmGridSubmitter
from experiments.grid.wall_time_estimate import estimate_wall_time, format_duration
from experiments.launchers.slurm_arguments import add_launcher_arguments, slurm_options_from_args
from experiments.launchers.slurm_launcher import SlurmLauncher
from experiments.launchers.slurm_options import SlurmOptions
from experiments.launchers.slurm_preflight import SlurmUnavailableError, require_slurm
from experiments.launchers.slurm_queue import SchedulerError

SMOKE_SECONDS_PER_CELL = 60.0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="losslab grid",
        description="Expand a grid spec (experiments/grids/<name>.yaml) into cells and run each cell as its "
        "own `losslab fit` in runs/<grid>/<cell id>/, here (--launcher local) or as a SLURM job array "
        "(--launcher slurm). Finished cells (metrics.json) are skipped, interrupted ones resumed from "
        "last.ckpt (or moved aside and rerun), failed ones retried until they failed --max-failures times. "
        "Any further --dotted.key value pairs are passed to every cell's `losslab fit`.",
    )
    actions = parser.add_subparsers(dest="action", required=True)
    for name, text in (
        ("status", "print every cell's state, with its SLURM job"),
        ("list", "the same as status"),
        ("run", "run (or submit) the cells not yet done"),
    ):
        sub = actions.add_parser(name, help=text, description=text)
        sub.add_argument("spec", help="grid spec file or built-in grid name (triplet_variants, ...)")
        sub.add_argument(
            "--runs-dir",
            default=None,
            help="root of grid run directories (default runs/, or runs/smoke/ with --max-steps or --fast-dev-run)",
        )
        sub.add_argument(
            "--max-failures", type=int, default=MAX_FAILURES, help="stop retrying a cell after N failures (default 3)"
        )
    run = actions.choices["run"]
    run.add_argument("--cell", type=int, action="append", default=None, help="run only this cell index (repeatable)")
    run.add_argument("--dry-run", action="store_true", help="print the cells and commands (SLURM: check the request)")
    run.add_argument("--max-steps", type=int, default=None, help="smoke run: stop every cell after N steps")
    run.add_argument("--fast-dev-run", action="store_true", help="smoke run: Lightning's fast_dev_run")
    run.add_argument("--retry-failed", action="store_true", help="also rerun cells that failed --max-failures times")
    run.add_argument("--wait", action="store_true", help="SLURM: wait until the submitted cells have ended")
    add_launcher_arguments(run)
    return parser


def smoke_args(max_steps: int | None, fast_dev_run: bool) -> list[str]:
    """``losslab fit`` limits of a smoke run: ``max_steps`` steps validated at the end, or ``fast_dev_run``."""
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


def _job(state: CellState) -> str:
    if state.job_id is None:
        return "-"
    return f"{state.job_id} {state.job_state}" if state.job_state else state.job_id


def print_cell_states(cells: list[GridCell], states: list[CellState], max_failures: int) -> None:
    """The status table: index, cell id, status, SLURM job, labels; what to do about failed cells."""
    width = max(len(c.cell_id) for c in cells)
    jobs = [_job(state) for state in states]
    job_width = max(3, *(len(job) for job in jobs))
    print(f"{'idx':>4}  {'cell id':<{width}}  {'status':<11}  {'job':<{job_width}}  label")
    for cell, state, job in zip(cells, states, jobs, strict=True):
        print(f"{cell.index:>4}  {cell.cell_id:<{width}}  {state.status.value:<11}  {job:<{job_width}}  {cell.label}")
        if state.status is CellStatus.REFUSED:
            print(f"{'':>4}  refused: {cell.refused}")
        elif state.status is CellStatus.FAILED:
            retry = "retried by the next grid run" if state.failures < max_failures else "not retried (--retry-failed)"
            reason = f": {state.reason}" if state.reason not in (None, "None") else ""
            how = f" ({state.job_state}{reason})" if state.job_state else ""
            print(f"{'':>4}  failed {state.failures}/{max_failures}{how}, {retry}; log: {state.log}")
        elif state.alive and state.job_id and state.reason not in (None, "None"):
            print(f"{'':>4}  {state.job_state}: {state.reason}")


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    # A terminated worker stops its cell's process too (see SubprocessLauncher) and releases its claim.
    raise KeyboardInterrupt


def _run_local(args: argparse.Namespace, selected: list[GridCell], layout: GridLayout, reader: CellStateReader) -> int:
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    runner = GridRunner(
        selected, layout, SubprocessLauncher(), args.retry_failed, reader=reader, max_failures=args.max_failures
    )
    try:
        outcome = runner.run()
    except KeyboardInterrupt:
        print("interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    print(", ".join(f"{n} {state}" for state, n in sorted(outcome.items())) or "nothing to run")
    return 1 if outcome["failed"] else 0


def _run_slurm(
    args: argparse.Namespace,
    to_run: list[GridCell],
    layout: GridLayout,
    reader: CellStateReader,
    parser: CellConfigParser,
    options: SlurmOptions,
) -> int:
    launcher = SlurmLauncher(options, layout.slurm_folder())
    submitter = SlurmGridSubmitter(layout, launcher, parser, reader)
    try:
        # A cell asking for GPUs it would not use is bad input wherever this runs: say so before SLURM.
        plan = submitter.plan(to_run)
        require_slurm()
        if args.dry_run:
            submitter.check(plan)
            for resources, group in plan.items():
                print(f"# one array of {len(group)} task(s), accepted by sbatch --test-only:")
                print(launcher.batch_script(group[0].grid, len(group), resources))
                for cell in group:
                    print(f"[{cell.index}] python -m experiments.grid.run_cell {layout.run_dir(cell)}")
            return 0
        tasks = submitter.submit(to_run, args.max_failures, args.retry_failed)
        if not tasks:
            print("nothing to submit")
            return 0
        if not args.wait:
            print(f"{len(tasks)} cell(s) submitted; `losslab grid status {args.spec}` shows where they stand")
            return 0
        print(f"{len(tasks)} cell(s) submitted; waiting for them to end", flush=True)
        launcher.queue.wait([task.job_id for task in tasks])
        states = reader.read_all(to_run)
    except (ValueError, SlurmUnavailableError, SchedulerError) as err:
        print(f"losslab grid: error: {err}", file=sys.stderr)
        return 2
    print_cell_states(to_run, states, args.max_failures)
    return 1 if any(state.status is CellStatus.FAILED for state in states) else 0


def main(argv: list[str]) -> int:
    """Entry point of ``losslab grid``; returns 0, 1 (some cell failed) or 2 (bad spec, arguments or request)."""
    parser = _parser()
    args, fit_overrides = parser.parse_known_args(argv)
    if fit_overrides and not fit_overrides[0].startswith("--"):
        parser.error(f"unexpected argument {fit_overrides[0]!r}")
    running = args.action == "run"
    smoke = running and (args.max_steps is not None or args.fast_dev_run)
    try:
        spec = GridSpec.from_yaml(resolve_spec_path(args.spec))
        options = slurm_options_from_args(spec.slurm, args) if running else spec.slurm
        extra = smoke_args(args.max_steps, args.fast_dev_run) if running else []
        config_parser = CellConfigParser()
        cells = expand_grid(spec, [*extra, *fit_overrides], parser=config_parser)
        selected = cells
        if running and args.cell is not None:
            wrong = [i for i in args.cell if not 0 <= i < len(cells)]
            if wrong:
                raise ValueError(f"--cell {wrong}: expected indices between 0 and {len(cells) - 1}")
            selected = [cells[i] for i in args.cell]
        if args.max_failures < 1:
            raise ValueError(f"--max-failures={args.max_failures}: expected a positive integer")
    except ValueError as err:
        print(f"losslab grid: error: {err}", file=sys.stderr)
        return 2
    runs_dir = Path(args.runs_dir or ("runs/smoke" if smoke else "runs"))
    layout = GridLayout(runs_dir / spec.name)
    reader = CellStateReader(layout)
    try:
        states = reader.read_all(cells)
    except SchedulerError as err:
        print(f"losslab grid: error: {err}", file=sys.stderr)
        return 2
    refused = sum(c.refused is not None for c in cells)
    print(f"grid {spec.name}: {len(cells)} cells ({refused} refused) in {layout.root}")
    print_cell_states(cells, states, args.max_failures)
    if not running:
        return 0
    to_run = [c for c in selected if states[c.index].runnable(args.max_failures, args.retry_failed)]
    stated = SMOKE_SECONDS_PER_CELL if smoke else spec.estimate_minutes_per_cell * 60
    seconds, source = estimate_wall_time(cells, len(to_run), layout, stated)
    duration = format_duration(seconds)
    print(f"to run: {len(to_run)} of {len(selected)} selected cells, {duration} of cell time ({source})")
    if args.launcher == "slurm":
        return _run_slurm(args, to_run, layout, reader, config_parser, options)
    if args.dry_run:
        for cell in to_run:
            print(f"[{cell.index}] losslab " + shlex.join(_dry_run_args(cell, layout)))
        return 0
    return _run_local(args, selected, layout, reader)


def _dry_run_args(cell: GridCell, layout: GridLayout) -> list[str]:
    run_dir = layout.run_dir(cell)
    return cell_fit_args(run_dir) if layout.last_checkpoint(cell).is_file() else cell.fit_args(run_dir)
