"""The ``losslab eval`` command: evaluate a model reference on MTEB tasks."""

from __future__ import annotations

from pathlib import Path

from experiments.evaluation.errors import EvaluationInputError, InvalidArgumentError
from experiments.evaluation.model_loader import load_model
from experiments.evaluation.mteb_encoder import Precision
from experiments.evaluation.mteb_runner import MTEBTaskScore, print_scores, run_mteb
from experiments.evaluation.task_resolver import DataSource, resolve_tasks


def evaluate_model(
    model: str,
    tasks: list[str],
    output_dir: str | None = None,
    data_dir: str | None = None,
    source: DataSource = "auto",
    batch_size: int = 64,
    precision: Precision = "fp32",
    overwrite: bool = False,
) -> dict[str, MTEBTaskScore]:
    """Evaluate a model on MTEB tasks and print a score table.

    Args:
        model: Hub id, embedded model name, local HF/sentence-transformers directory, losslab run directory
            or Lightning ``.ckpt`` file.
        tasks: MTEB task names (e.g. ``STSBenchmark SICK-R``), local task names, or STS ``.csv`` files.
        output_dir: Where MTEB's result JSON is written (``<dir>/<model>/<revision>/<task>.json``, the
            revision being what was loaded: a Hub commit, ``local-<content hash>``, a checkpoint and step),
            plus ``<dir>/per_pair/<task>.csv`` for local STS tasks; nothing is written when omitted.
        data_dir: Local data directory (default ``$LOSSLAB_DATA_DIR``).
        source: ``auto`` (local data when present, else the Hub), ``local`` or ``hub``.
        batch_size: Sentences per forward pass.
        precision: ``fp32`` or ``bf16`` (autocast).
        overwrite: Replace existing result files (otherwise they stop the evaluation before it starts).

    Returns:
        Task name → score.

    Raises:
        EvaluationInputError: For bad input (unknown task, missing data, not a model, bad argument), with a
            one-line message.
    """
    if precision not in ("fp32", "bf16"):
        raise InvalidArgumentError(f"precision must be 'fp32' or 'bf16', got {precision!r}")
    if batch_size < 1:
        raise InvalidArgumentError(f"batch_size must be >= 1, got {batch_size}")
    resolve_tasks(tasks, data_dir, source)  # fail on bad task names before loading a model
    loaded = load_model(model)
    scores = run_mteb(
        loaded.encoder,
        tasks,
        Path(output_dir) if output_dir is not None else None,
        model_name=loaded.name,
        revision=loaded.revision,
        data_dir=data_dir,
        source=source,
        batch_size=batch_size,
        precision=precision,
        provenance=loaded.provenance,
        overwrite=overwrite,
    )
    print_scores(scores)
    return scores


__all__ = ["EvaluationInputError", "evaluate_model"]
