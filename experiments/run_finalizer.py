"""What happens around a fit: baseline evaluation, best-weights export, MTEB test, ``metrics.json``."""

from __future__ import annotations

import logging
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytorch_lightning as pl
import torch
from pytorch_lightning.loggers import WandbLogger

from experiments.atomic_io import atomic_write_json
from experiments.evaluation.mteb_runner import MTEBTaskScore, run_mteb
from experiments.evaluation.task_resolver import resolve_tasks
from lightning_modules.embedding_module import EmbeddingLitModule

log = logging.getLogger(__name__)


@dataclass
class EvaluationSettings:
    """Test-stage evaluation after ``fit`` (``--evaluation.*``).

    Args:
        tasks: MTEB task names evaluated on the best checkpoint (empty list: none).
        before_fit: Also evaluate the untrained encoder, for a before/after table.
        source: ``local`` (the data directory), ``hub`` (MTEB's own Hub data, online) or ``auto``
            (local when the files exist, else Hub).
        data_dir: Data directory for local tasks (default: ``LOSSLAB_DATA_DIR``).
        batch_size: Sentences per forward pass when encoding for evaluation.
        export_model: Export the best weights as a sentence-transformers model to ``<run_dir>/model``.
    """

    tasks: list[str] = field(default_factory=lambda: ["STSBenchmark", "SICK-R"])
    before_fit: bool = True
    source: Literal["auto", "local", "hub"] = "auto"
    data_dir: str | None = None
    batch_size: int = 128
    export_model: bool = True


class RunFinalizer:
    """Evaluates and exports one run into its run directory; every file is written atomically.

    Args:
        run_dir: The run directory (``trainer.default_root_dir``).
        settings: What to evaluate and export.
    """

    def __init__(self, run_dir: Path, settings: EvaluationSettings) -> None:
        self.run_dir = run_dir
        self.settings = settings
        self.before: dict[str, float] = {}
        self.started = time.monotonic()
        self.run_id = uuid.uuid4().hex[:8]

    def _mteb(self, module: EmbeddingLitModule, stage: str, revision: str) -> dict[str, MTEBTaskScore]:
        return run_mteb(
            encoder=module.encoder,
            tasks=self.settings.tasks,
            output_dir=self.run_dir / "mteb" / stage,
            model_name=f"losslab/{self.run_dir.name}",
            # Unique per run and step, so MTEB can never hand back another model's cached results.
            revision=f"{self.run_id}-{revision}",
            data_dir=self.settings.data_dir,
            source=self.settings.source,
            batch_size=self.settings.batch_size,
        )

    def before_fit(self, module: EmbeddingLitModule) -> None:
        """Check the test tasks exist (before hours of training), then evaluate the untrained encoder."""
        if not self.settings.tasks:
            return
        resolve_tasks(self.settings.tasks, self.settings.data_dir, self.settings.source)
        if self.settings.before_fit:
            self.before = {task: s.main_score for task, s in self._mteb(module, "before", "before-fit").items()}

    def after_fit(self, trainer: pl.Trainer, module: EmbeddingLitModule) -> dict[str, Any]:
        """Restore the best checkpoint, export, run the test tasks and write ``metrics.json``.

        Returns:
            The content written to ``metrics.json``.
        """
        checkpoint = trainer.checkpoint_callback
        best_path = getattr(checkpoint, "best_model_path", "") or ""
        if best_path:
            state = torch.load(best_path, map_location="cpu", weights_only=False)["state_dict"]
            module.load_state_dict(state)
        if self.settings.export_model:
            module.encoder.save_sentence_transformer(self.run_dir / "model")
        scores = self._mteb(module, "after", f"step-{trainer.global_step}") if self.settings.tasks else {}
        after = {task: score.main_score for task, score in scores.items()}
        test_metrics = {f"test/mteb/{task}": score for task, score in after.items()}
        for logger in trainer.loggers:
            logger.log_metrics(test_metrics, step=trainer.global_step)
            if isinstance(logger, WandbLogger) and scores:
                _mirror_full_scores(logger, scores)
        val_metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("val/")}
        primary = module.primary_metric
        metrics = {
            "primary_metric": {"name": primary[0], "higher_is_better": primary[1]} if primary else None,
            "best_val": float(checkpoint.best_model_score)
            if checkpoint is not None and checkpoint.best_model_score is not None
            else None,
            "best_checkpoint": os.path.relpath(best_path, self.run_dir) if best_path else None,
            "val": val_metrics,
            "test": test_metrics,
            "before": {f"test/mteb/{task}": score for task, score in self.before.items()},
            "global_step": trainer.global_step,
            "wall_time_s": round(time.monotonic() - self.started, 1),
        }
        atomic_write_json(self.run_dir / "metrics.json", metrics)
        print(format_before_after(self.before, after))
        return metrics


def _mirror_full_scores(logger: WandbLogger, scores: dict[str, MTEBTaskScore]) -> None:
    try:
        logger.experiment.summary.update({f"test/mteb/{task}/scores": s.scores for task, s in scores.items()})
    except Exception as err:  # noqa: BLE001 - W&B is a mirror; the run directory holds the results
        log.warning("W&B summary update failed (%s)", err)


def format_before_after(before: dict[str, float], after: dict[str, float]) -> str:
    """A small Markdown table of MTEB main scores before and after training."""
    if not after:
        return ""
    lines = ["| task | before | after | Δ |", "|---|---:|---:|---:|"]
    for task, score in after.items():
        if task in before:
            lines.append(f"| {task} | {before[task]:.2f} | {score:.2f} | {score - before[task]:+.2f} |")
        else:
            lines.append(f"| {task} | – | {score:.2f} | – |")
    return "\n".join(lines)
