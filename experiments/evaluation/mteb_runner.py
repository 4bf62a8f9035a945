"""Run MTEB tasks on an :class:`HFEncoder` and file the results in MTEB's own JSON layout."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mteb
from mteb.abstasks.abstask import AbsTask
from mteb.cache import ResultCache

from experiments.evaluation.errors import MissingTaskDataError, ResultExistsError
from experiments.evaluation.local_tasks import LOCAL_TASKS, LocalDataMixin
from experiments.evaluation.model_meta import ModelProvenance
from experiments.evaluation.mteb_encoder import LosslabMTEBEncoder, Precision
from experiments.evaluation.per_pair_scores import has_per_pair_scores, per_pair_path, write_per_pair_scores
from experiments.evaluation.task_resolver import DATA_DIR_ENV, DataSource, resolve_tasks
from lightning_modules.encoders.hf_encoder import HFEncoder


@dataclass
class MTEBTaskScore:
    """One task's outcome.

    Attributes:
        task_name: MTEB task name.
        main_metric: Name of the task's main score (e.g. ``cosine_spearman``).
        main_score: The main score ×100 (averaged over splits/subsets, as MTEB does).
        scores: MTEB's full score dicts: split → one dict per subset.
        evaluation_time: Seconds MTEB measured for the task.
    """

    task_name: str
    main_metric: str
    main_score: float
    scores: dict[str, list[dict[str, Any]]]
    evaluation_time: float | None


def _load_task_data(task: AbsTask) -> None:
    """Load a task's data up front so that an unreachable Hub dataset gives one clear error."""
    if isinstance(task, LocalDataMixin):
        task.load_data()  # local errors already name the file
        return
    name = task.metadata.name
    try:
        task.load_data()
    except (OSError, ConnectionError, ValueError) as err:
        local = LOCAL_TASKS.get(name)
        hint = (
            f"put {', '.join(local.local_files)} under a data directory (--data-dir or ${DATA_DIR_ENV})"
            if local is not None
            else "run with network access to the Hugging Face Hub"
        )
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise MissingTaskDataError(
            f"could not load data for task {name!r} from the Hub ({first_line}); {hint}"
        ) from err


def _publish(staging: Path, output_dir: Path) -> None:
    """Move each file under ``staging`` to the same place under ``output_dir``, one atomic rename each."""
    for src in sorted(p for p in staging.rglob("*") if p.is_file()):
        dst = output_dir / src.relative_to(staging)
        dst.parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, dst)


def result_files(model: LosslabMTEBEncoder, tasks: list[AbsTask], output_dir: Path) -> list[Path]:
    """The files an evaluation of ``tasks`` writes under ``output_dir`` (MTEB's task JSON, per-pair CSVs)."""
    cache = ResultCache(output_dir)  # only to compute MTEB's layout; nothing is read
    files = []
    for task in tasks:
        in_cache = cache.get_task_result_path(task.metadata.name, model.mteb_model_meta)
        files.append(output_dir / in_cache.relative_to(output_dir / "results"))
        if has_per_pair_scores(task):
            files.append(per_pair_path(output_dir, task.metadata.name))
    return files


def evaluate_tasks(
    model: LosslabMTEBEncoder,
    tasks: list[AbsTask],
    output_dir: Path | None,
    batch_size: int = 64,
    overwrite: bool = False,
) -> dict[str, MTEBTaskScore]:
    """Run resolved tasks through ``mteb.evaluate`` and write MTEB's result files.

    Results go to ``output_dir/<model name as path>/<revision>/<task>.json`` (plus ``model_meta.json``
    and ``run_settings.jsonl``), exactly as MTEB's result cache lays them out, and, for local STS tasks,
    ``output_dir/per_pair/<task>.csv`` (see :mod:`experiments.evaluation.per_pair_scores`). They are
    written to a staging directory first and renamed into place, and never read back: nothing stale is
    reused.

    Args:
        model: The wrapped encoder.
        tasks: Task objects (from :func:`resolve_tasks`).
        output_dir: Where to write result JSON, or ``None`` to write nothing.
        batch_size: Sentences per forward pass.
        overwrite: Replace result files that already exist (otherwise they stop the evaluation before it
            starts).

    Returns:
        Task name → score.

    Raises:
        ResultExistsError: If a result file exists and ``overwrite`` is false.
    """
    if output_dir is not None and not overwrite:
        existing = [p for p in result_files(model, tasks, output_dir) if p.exists()]
        if existing:
            raise ResultExistsError(
                f"{existing[0]} already exists ({len(existing)} result file(s) of this model revision would be "
                "overwritten); choose another output directory or pass overwrite"
            )
    for task in tasks:
        _load_task_data(task)
    encode_kwargs = {"batch_size": batch_size, "show_progress_bar": False}
    staging = None
    if output_dir is not None:
        output_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".mteb-staging-", dir=output_dir))
    try:
        result = mteb.evaluate(
            model,
            tasks,
            cache=ResultCache(staging) if staging is not None else None,
            overwrite_strategy="always",
            encode_kwargs=encode_kwargs,
            co2_tracker=False,
            show_progress_bar=False,
            prediction_folder=staging / "predictions" if staging is not None else None,
        )
        if staging is not None and output_dir is not None:
            _publish(staging / "results", output_dir)
            for task in filter(has_per_pair_scores, tasks):
                write_per_pair_scores(task, staging / "predictions", output_dir)
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    by_name = {task.metadata.name: task for task in tasks}
    return {
        tr.task_name: MTEBTaskScore(
            task_name=tr.task_name,
            main_metric=by_name[tr.task_name].metadata.main_score,
            main_score=100.0 * float(tr.get_score()),
            scores=dict(tr.scores),
            evaluation_time=tr.evaluation_time,
        )
        for tr in result.task_results
    }


def run_mteb(
    encoder: HFEncoder,
    tasks: list[str],
    output_dir: Path | None,
    model_name: str,
    revision: str,
    data_dir: str | Path | None = None,
    source: DataSource = "auto",
    batch_size: int = 64,
    precision: Precision = "fp32",
    provenance: ModelProvenance | None = None,
    overwrite: bool = False,
) -> dict[str, MTEBTaskScore]:
    """Evaluate ``encoder`` on MTEB tasks by name.

    Args:
        encoder: The encoder (its train/eval mode is restored afterwards).
        tasks: Task names (MTEB's, the local ones, or STS ``.csv`` paths).
        output_dir: Where MTEB's result JSON goes, or ``None``.
        model_name: ``organisation/name`` under which results are filed.
        revision: Revision string that identifies these weights (e.g. run id + step).
        data_dir: Local data directory (default ``$LOSSLAB_DATA_DIR``).
        source: ``auto``, ``local`` or ``hub`` (see :func:`resolve_task`).
        batch_size: Sentences per forward pass.
        precision: ``fp32`` or ``bf16`` (autocast).
        provenance: Base model and training datasets, for MTEB's ``ModelMeta``.
        overwrite: Replace existing result files instead of refusing before evaluating.

    Returns:
        Task name → :class:`MTEBTaskScore`.
    """
    resolved = resolve_tasks(tasks, data_dir, source)
    wrapper = LosslabMTEBEncoder(
        encoder, model_name=model_name, revision=revision, precision=precision, provenance=provenance
    )
    out = Path(output_dir) if output_dir is not None else None
    return evaluate_tasks(wrapper, resolved, out, batch_size, overwrite=overwrite)


def format_scores(scores: dict[str, MTEBTaskScore]) -> str:
    """A small plain-text table: task, main metric, score ×100."""
    rows = [("task", "metric", "score")] + [
        (s.task_name, s.main_metric, f"{s.main_score:.2f}") for s in scores.values()
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>{widths[2]}}" for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def print_scores(scores: dict[str, MTEBTaskScore]) -> None:
    """Print :func:`format_scores`."""
    print(format_scores(scores))
