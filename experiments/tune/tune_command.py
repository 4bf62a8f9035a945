"""``losslab tune SPEC``: search each loss's hyperparameters at an equal budget, then rerun the best with N seeds."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import optuna

from experiments.atomic_io import atomic_write_text
from experiments.grid.cell_config_parser import CellConfigParser
from experiments.grid.cell_launcher import SubprocessLauncher
from experiments.grid.grid_command import smoke_args
from experiments.grid.grid_runner import GridRunner
from experiments.launchers.slurm_arguments import add_launcher_arguments, slurm_options_from_args
from experiments.launchers.slurm_launcher import SlurmLauncher
from experiments.launchers.slurm_preflight import SlurmUnavailableError, require_slurm
from experiments.launchers.slurm_queue import SchedulerError
from experiments.launchers.worker_group import LocalWorkers
from experiments.report.trials_table import TrialRecord, write_trials
from experiments.run_metadata import git_ignore_rule
from experiments.tune.study_export import export_study
from experiments.tune.study_layout import StudyLayout
from experiments.tune.study_preflight import LossPlan, preflight
from experiments.tune.study_runs import final_cells
from experiments.tune.study_spec import StudySpec, resolve_study_path
from experiments.tune.study_status import status_lines
from experiments.tune.study_storage import loss_studies, open_storage
from experiments.tune.study_worker import StudyWorker


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="losslab tune",
        description="The fair comparison protocol (Musgrave et al., ECCV 2020): every loss of the study gets the "
        "same number of Optuna trials (TPE, seeded; pruned on the validation curve), searched on validation "
        "data only; then each loss's best configuration is rerun with the study's seeds and evaluated with "
        "MTEB; `losslab report SPEC` builds the leaderboard from those runs. Resumable: rerun the command after "
        "a kill. Any further --dotted.key value pairs are passed to every run's `losslab fit`.",
    )
    parser.add_argument("spec", help="study spec file or built-in study name (experiments/studies/<name>.yaml)")
    parser.add_argument("--runs-dir", default=None, help="root of study directories (default runs/; smoke runs/smoke/)")
    parser.add_argument("--status", action="store_true", help="print trials per loss and the final stage; run nothing")
    parser.add_argument(
        "--export",
        metavar="DIR",
        default=None,
        help="copy the stopped study (storage, ended runs' records; no checkpoints, models or W&B files) to "
        "DIR/<study>/, to continue it elsewhere (copy it back under a runs directory) or to keep beside its "
        "report (losslab report SPEC --runs-dir DIR); run nothing",
    )
    parser.add_argument(
        "--stop",
        action="store_true",
        help="ask the study's workers to finish their current trial or final run and exit (rerun losslab tune "
        "to continue); run nothing",
    )
    parser.add_argument("--workers", type=int, default=1, help="workers sharing the study (default 1, in this process)")
    parser.add_argument("--search-only", action="store_true", help="stop after the search (no final stage)")
    parser.add_argument("--max-steps", type=int, default=None, help="smoke run: stop every run after N steps")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)  # a started worker: no spawning
    parser.add_argument("--wait", action="store_true", help="SLURM: wait until the submitted workers have ended")
    add_launcher_arguments(parser)
    return parser


def _worker_command(argv: list[str]) -> list[str]:
    drop = {"--workers", "--launcher"}
    kept, skip = [], False
    for token in argv:
        if skip:
            skip = False
        elif token in drop:
            skip = True
        elif not token.startswith(("--workers=", "--launcher=")):
            kept.append(token)
    return [sys.executable, "-m", "experiments.cli", "tune", *kept, "--worker"]


def _start_workers(args: argparse.Namespace, argv: list[str], spec: StudySpec, layout: StudyLayout) -> int:
    command = _worker_command(argv)
    if args.launcher == "slurm":
        require_slurm()
        launcher = SlurmLauncher(slurm_options_from_args(spec.slurm, args), layout.root / "_slurm")
        group = launcher.start_workers(command, args.workers, f"{spec.name}-tune")
        print(f"{args.workers} worker(s) submitted: {', '.join(group.worker_ids)}")
        if not args.wait:
            print(f"`losslab tune {args.spec} --status` shows the progress")
            return 0
    else:
        # Each worker's fits share the cores: one intra-op thread set per worker, unless set already.
        os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // args.workers)))
        group = LocalWorkers(layout.workers).start_workers(command, args.workers, "worker")
        print(f"{args.workers} workers started (logs in {layout.workers})", flush=True)
    outcomes = group.wait()
    failed = [o for o in outcomes if not o.ok]
    for outcome in failed:
        print(f"worker {outcome.worker_id} failed; log: {outcome.log}", file=sys.stderr)
    return 1 if failed else 0


def _export(
    spec: StudySpec, layout: StudyLayout, plans: list[LossPlan], studies: dict[str, optuna.Study], dest: Path
) -> int:
    failed = StudyWorker(spec, layout, plans, studies).fail_orphans()  # dead workers' trials: settled first
    try:
        summary = export_study(layout, studies, layout.storage_file(spec.storage), dest)
    except ValueError as err:
        print(f"losslab tune: error: {err}", file=sys.stderr)
        return 2
    settled = f" ({failed} trials of dead workers recorded as interrupted)" if failed else ""
    print(f"exported {summary.trials} trials and {summary.final_runs} final runs to {summary.target}{settled}")
    rule = git_ignore_rule(summary.target)
    if rule:  # an export is usually made to be committed and continued elsewhere
        warning = f"losslab tune: warning: git ignores {summary.target} ({rule}): it will not be committed"
        print(warning, file=sys.stderr)
    return 0


def _stopped(spec: str) -> str:
    return f"stopped on request: `losslab tune {spec} --status` shows the progress; rerun to continue"


def main(argv: list[str]) -> int:
    """Entry point of ``losslab tune``; returns 0, 1 (a worker or final run failed) or 2 (bad spec or input)."""
    parser = _parser()
    args, fit_overrides = parser.parse_known_args(argv)
    if fit_overrides and not fit_overrides[0].startswith("--"):
        parser.error(f"unexpected argument {fit_overrides[0]!r}")
    try:
        if args.workers < 1:
            raise ValueError(f"--workers={args.workers}: expected a positive integer")
        spec = StudySpec.from_yaml(resolve_study_path(args.spec))
        extra = [*smoke_args(args.max_steps, False), *fit_overrides]
        config_parser = CellConfigParser()
        plans = preflight(spec, extra, config_parser)
    except ValueError as err:
        print(f"losslab tune: error: {err}", file=sys.stderr)
        return 2
    layout = StudyLayout(Path(args.runs_dir or ("runs/smoke" if args.max_steps else "runs")) / spec.name)
    if args.export and not layout.storage_file(spec.storage).is_file():
        print(f"losslab tune: error: --export: no {spec.storage} storage in {layout.root}", file=sys.stderr)
        return 2
    studies = loss_studies(spec, open_storage(spec, layout), plans)
    names = {plan.label: plan.loss for plan in plans}
    if args.status:
        cells = final_cells(spec, {p.label: {} for p in plans}, extra, names)
        print("\n".join(status_lines(plans, studies, spec.trials_per_loss, layout.final, cells)))
        return 0
    if args.export:
        return _export(spec, layout, plans, studies, Path(args.export))
    if args.stop:
        atomic_write_text(layout.stop_file, "losslab tune --stop\n")
        print(f"stop requested ({layout.stop_file}): workers exit after their current run")
        return 0
    if not args.worker:
        layout.stop_file.unlink(missing_ok=True)  # a new start clears an earlier stop request
    if not args.worker and (args.workers > 1 or args.launcher == "slurm"):
        try:
            return _start_workers(args, argv, spec, layout)
        except (ValueError, SlurmUnavailableError, SchedulerError) as err:
            print(f"losslab tune: error: {err}", file=sys.stderr)
            return 2
    worker = StudyWorker(spec, layout, plans, studies, extra)
    print(f"study {spec.name}: {len(plans)} losses x {spec.trials_per_loss} trials in {layout.root}", flush=True)
    worker.search()
    worker.wait_for_search()
    if layout.stop_requested():
        print(_stopped(args.spec))
        return 0
    records = [
        TrialRecord.from_frozen_trial(plan.label, trial, "maximize" if plan.higher_is_better else "minimize")
        for plan in plans
        for trial in studies[plan.label].get_trials(deepcopy=False)
    ]
    write_trials(records, layout.root)
    print("\n".join(status_lines(plans, studies, spec.trials_per_loss, layout.final, [])), flush=True)
    if args.search_only:
        return 0
    try:
        cells = final_cells(spec, worker.best_params(), extra, names)
    except ValueError as err:
        print(f"losslab tune: error: {err}", file=sys.stderr)
        return 1
    outcome = GridRunner(cells, layout.final, SubprocessLauncher(), should_stop=layout.stop_requested).run()
    print(", ".join(f"{n} {state}" for state, n in sorted(outcome.items())) or "nothing to run")
    if layout.stop_requested():
        print(_stopped(args.spec))
    else:
        print(f"report: losslab report {args.spec}" + (f" --runs-dir {args.runs_dir}" if args.runs_dir else ""))
    return 1 if outcome["failed"] else 0
