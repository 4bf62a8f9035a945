"""The end-of-run callback: MTEB before and after training, the best weights exported with a card, ``metrics.json``."""

from __future__ import annotations

import logging
import os
import shutil
import time
import uuid
from pathlib import Path
from typing import Any, Literal

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import Callback
from pytorch_lightning.loggers import WandbLogger
from pytorch_lightning.utilities import rank_zero_info

from core.errors import SetupError
from experiments.atomic_io import atomic_write_json
from experiments.callbacks.fit_record import fit_provenance, fit_record
from experiments.callbacks.peak_memory import PeakMemory
from experiments.evaluation.errors import EvaluationInputError
from experiments.evaluation.model_meta import ModelProvenance, run_model_name
from experiments.evaluation.mteb_runner import MTEBTaskScore, run_mteb
from experiments.evaluation.task_resolver import resolve_tasks
from experiments.hub.model_card import write_model_card
from experiments.wandb_logging import ResilientWandbLogger
from lightning_modules.embedding_module import EmbeddingLitModule

log = logging.getLogger(__name__)
METRICS_FILE = "metrics.json"


class RunFinalizer(Callback):
    """Evaluates and exports a fit into its run directory (``trainer.default_root_dir``), on global rank 0.

    * ``setup``: checks the MTEB test tasks exist (before hours of training).
    * ``on_fit_start``: evaluates the untrained encoder (``before_fit``), for a before/after table.
    * ``on_fit_end``: restores the best checkpoint, exports it as a sentence-transformers model to
      ``<run_dir>/model``, evaluates it on the test tasks, writes the model card (``model/README.md``: base
      model, loss, data, steps, seed, precision, MTEB before/after, the config, the W&B run) and then
      ``metrics.json`` — the only file that marks a run as finished; every file is written atomically.

    MTEB files the results under the run's model name (``losslab/<parent>-<run>``, as ``losslab eval`` of
    the run directory does) with its base model and training data as ``ModelMeta`` provenance.

    Its state (the before-training scores, time spent, the run id MTEB files results under) is saved in
    checkpoints, so a resumed run neither re-evaluates the untrained encoder nor loses the time already
    spent. ``losslab fit`` configures it from ``--evaluation.*``; in Python, pass it to the Trainer.

    Args:
        tasks: MTEB task names evaluated on the best checkpoint (empty list: none).
        before_fit: Also evaluate the untrained encoder, for a before/after table.
        source: ``local`` (the data directory), ``hub`` (MTEB's own Hub data, online) or ``auto``
            (local when the files exist, else Hub).
        data_dir: Data directory for local tasks (default: ``LOSSLAB_DATA_DIR``).
        batch_size: Sentences per forward pass when encoding for evaluation.
        export_model: Export the best weights as a sentence-transformers model to ``<run_dir>/model``.
        keep_checkpoints: Keep ``<run_dir>/checkpoints`` once the run has finished; studies and large grids
            turn it off (a MiniLM checkpoint with its optimizer state is ~270 MB, and ``model/`` holds the
            best weights).
    """

    def __init__(
        self,
        tasks: list[str] | None = None,
        before_fit: bool = True,
        source: Literal["auto", "local", "hub"] = "auto",
        data_dir: str | None = None,
        batch_size: int = 128,
        export_model: bool = True,
        keep_checkpoints: bool = True,
    ) -> None:
        self.tasks = ["STSBenchmark", "SICK-R"] if tasks is None else list(tasks)
        self.before_fit = before_fit
        self.source = source
        self.data_dir = data_dir
        self.batch_size = batch_size
        self.export_model = export_model
        self.keep_checkpoints = keep_checkpoints
        self.before: dict[str, float] | None = None
        self.run_id = uuid.uuid4().hex[:8]
        self.memory = PeakMemory()
        self._earlier_s = 0.0  # time spent by the interrupted runs this one resumes
        self._last_val: dict[str, float] = {}  # the latest validation's metrics (a resumed run may run none)
        self._started = time.monotonic()

    # ----------------------------------------------------------------- state kept in checkpoints
    def state_dict(self) -> dict[str, Any]:
        """Before-training scores, run id, seconds spent, the training's peak memory, the latest validation."""
        peak = self.memory.peak_mb if self.memory.peak_mb is not None else self.memory.so_far()
        state = {"before": self.before, "run_id": self.run_id, "elapsed_s": self.elapsed_s, "peak_mb": peak}
        return {**state, "val": self._last_val}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Continue the run the checkpoint came from."""
        self.before = state_dict.get("before")
        self.run_id = state_dict.get("run_id", self.run_id)
        self._earlier_s = float(state_dict.get("elapsed_s", 0.0))
        self._started = time.monotonic()
        self.memory.earlier_peak_mb = state_dict.get("peak_mb")
        self._last_val = dict(state_dict.get("val") or {})

    @property
    def elapsed_s(self) -> float:
        """Wall time of this run so far, resumed attempts included."""
        return self._earlier_s + time.monotonic() - self._started

    # ----------------------------------------------------------------- hooks
    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        """Check the test tasks exist before anything is trained."""
        if stage != "fit" or not self.tasks:
            return
        try:
            resolve_tasks(self.tasks, self.data_dir, self.source)
        except EvaluationInputError as err:
            raise SetupError(f"evaluation.tasks: {err}") from None

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Evaluate the untrained encoder (once per run: a resumed run keeps the first scores)."""
        self._started = time.monotonic()
        primary = self._module(pl_module).primary_metric
        for logger in trainer.loggers:
            if isinstance(logger, ResilientWandbLogger) and primary is not None:
                logger.define_best(*primary)
        if not trainer.is_global_zero or not self.tasks or not self.before_fit or self.before is not None:
            return
        rank_zero_info(f"MTEB on the untrained encoder: {', '.join(self.tasks)}")
        # The untrained weights are the base model's: no training data to declare.
        scores = self._mteb(trainer, self._module(pl_module), "before", "before-fit", None)
        self.before = {task: score.main_score for task, score in scores.items()}

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Start measuring the training's peak memory."""
        self.memory.start()

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Stop measuring the training's peak memory."""
        self.memory.stop()

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Keep the validation's metrics (``metrics.json`` reports the last one)."""
        if not trainer.sanity_checking:
            self._last_val = {k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("val/")}

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Restore the best checkpoint, export, run the test tasks, write the model card and ``metrics.json``."""
        if not trainer.is_global_zero:
            return
        module = self._module(pl_module)
        run_dir = Path(trainer.default_root_dir)
        checkpoint = trainer.checkpoint_callback
        best_path = getattr(checkpoint, "best_model_path", "") or ""
        if best_path:
            state = torch.load(best_path, map_location="cpu", weights_only=False)["state_dict"]
            module.load_state_dict(state)
            rank_zero_info(f"restored the best checkpoint: {os.path.relpath(best_path, run_dir)}")
        if self.tasks:
            rank_zero_info(f"MTEB on the {'best' if best_path else 'final'} weights: {', '.join(self.tasks)}")
        provenance = fit_provenance(trainer, module)
        scores = self._mteb(trainer, module, "after", f"step-{trainer.global_step}", provenance) if self.tasks else {}
        after = {task: score.main_score for task, score in scores.items()}
        if self.export_model:
            model_dir = module.encoder.save_sentence_transformer(run_dir / "model")
            write_model_card(model_dir, fit_record(trainer, module, self.before or {}, after))
            rank_zero_info(f"exported the model with its card: {model_dir}")
            for logger in trainer.loggers:
                if isinstance(logger, ResilientWandbLogger):
                    logger.log_exported_model(model_dir, f"model-{run_dir.name}")
        test_metrics = {f"test/mteb/{task}": score for task, score in after.items()}
        for logger in trainer.loggers:
            logger.log_metrics(test_metrics, step=trainer.global_step)
            if isinstance(logger, WandbLogger) and scores:
                _mirror_full_scores(logger, scores)
        primary = module.primary_metric
        best = getattr(checkpoint, "best_model_score", None)
        metrics = {
            "primary_metric": {"name": primary[0], "higher_is_better": primary[1]} if primary else None,
            "best_val": float(best) if best is not None else None,
            "best_checkpoint": os.path.relpath(best_path, run_dir) if best_path and self.keep_checkpoints else None,
            "val": self._last_val,
            "test": test_metrics,
            "before": {f"test/mteb/{task}": score for task, score in (self.before or {}).items()},
            "global_step": trainer.global_step,
            "wall_time_s": round(self.elapsed_s, 1),
            # A resumed run with no training left to do measured nothing itself.
            "peak_memory_mb": self.memory.peak_mb if self.memory.peak_mb is not None else self.memory.earlier_peak_mb,
        }
        atomic_write_json(run_dir / METRICS_FILE, metrics)
        if not self.keep_checkpoints:
            shutil.rmtree(run_dir / "checkpoints", ignore_errors=True)
        table = format_before_after(self.before or {}, after)
        if table:
            print(table)
        rank_zero_info(f"results: {run_dir / METRICS_FILE}")

    # ----------------------------------------------------------------- helpers
    @staticmethod
    def _module(pl_module: pl.LightningModule) -> EmbeddingLitModule:
        if not isinstance(pl_module, EmbeddingLitModule):
            raise TypeError(f"RunFinalizer evaluates an EmbeddingLitModule, got {type(pl_module).__name__}")
        return pl_module

    def _mteb(
        self,
        trainer: pl.Trainer,
        module: EmbeddingLitModule,
        stage: str,
        revision: str,
        provenance: ModelProvenance | None,
    ) -> dict[str, MTEBTaskScore]:
        run_dir = Path(trainer.default_root_dir)
        return run_mteb(
            encoder=module.encoder,
            tasks=self.tasks,
            output_dir=run_dir / "mteb" / stage,
            model_name=run_model_name(run_dir),
            # Unique per run and step, so MTEB can never hand back another model's cached results.
            revision=f"{self.run_id}-{revision}",
            data_dir=self.data_dir,
            source=self.source,
            batch_size=self.batch_size,
            provenance=provenance,
            # A resumed run that stopped during its final evaluation evaluates again (same revision).
            overwrite=True,
        )


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
