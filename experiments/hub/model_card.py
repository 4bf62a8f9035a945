"""A run's exported model card (``model/README.md``), filled through sentence-transformers' own card data."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.model_resolution import DEFAULT_MODEL, embedded_model_installed, embedded_model_path
from experiments.atomic_io import atomic_write_text

_SECTION_BEFORE = "## Training Details"


def hub_model_id(reference: str) -> str | None:
    """A model reference as a Hub id: the embedded all-MiniLM-L6-v2 is that Hub model; a local path is ``None``."""
    if reference in (DEFAULT_MODEL, "all-MiniLM-L6-v2"):
        return DEFAULT_MODEL
    if embedded_model_installed() and Path(reference) == embedded_model_path():
        return DEFAULT_MODEL
    if Path(reference).expanduser().exists() or reference.startswith((".", "/", "~")):
        return None
    return reference


@dataclass(frozen=True)
class RunRecord:
    """What a model card says about the run that produced the model.

    Attributes:
        base_model: The encoder training started from (Hub id, embedded alias or local path).
        base_model_revision: Its Hub commit, when it came from the Hub.
        loss_class: Full class path of the loss (``lightning_modules.losses.CoSENTLoss``).
        loss_args: The loss's init arguments.
        train_dataset: Name of the training data (built-in name or file/dataset reference).
        train_columns: Its text and label columns, in batch order.
        train_rows: Number of training rows (after conversions), if known.
        steps: Optimiser steps taken.
        seed: The run's seed.
        precision: Training precision (``bf16-mixed``, ``32-true``, ...).
        mteb_before: MTEB main score ×100 per task before training.
        mteb_after: MTEB main score ×100 per task of the exported weights.
        config_text: The run's resolved ``config.yaml`` (empty: no config section).
        best_validation: Name and value of the best validation score (the checkpoint's), if any.
        wandb_run_id: The W&B run id, if W&B logged the run.
        wandb_url: The W&B run page, for online runs.
        model_id: The Hub repository the model is (to be) pushed to.
        language: Language code(s) of the training data.
        license: License of the model.
    """

    base_model: str
    loss_class: str
    loss_args: dict[str, Any]
    train_dataset: str
    steps: int
    seed: int | None
    precision: str
    config_text: str
    train_columns: tuple[str, ...] = ()
    train_rows: int | None = None
    base_model_revision: str | None = None
    mteb_before: dict[str, float] = field(default_factory=dict)
    mteb_after: dict[str, float] = field(default_factory=dict)
    best_validation: tuple[str, float] | None = None
    wandb_run_id: str | None = None
    wandb_url: str | None = None
    model_id: str | None = None
    language: str | list[str] | None = None
    license: str | None = None

    @property
    def loss_name(self) -> str:
        """The loss's class name."""
        return self.loss_class.rsplit(".", 1)[-1]

    @property
    def hub_base_model(self) -> str | None:
        """The base model as a Hub id (the embedded all-MiniLM-L6-v2 is that Hub model), or ``None`` for a path."""
        return hub_model_id(self.base_model)


def _scores_table(before: dict[str, float], after: dict[str, float]) -> str:
    lines = ["| task | before | after | Δ |", "|---|---:|---:|---:|"]
    for task in sorted(set(before) | set(after)):
        b, a = before.get(task), after.get(task)
        delta = f"{a - b:+.2f}" if a is not None and b is not None else "–"
        lines.append(f"| {task} | {'–' if b is None else f'{b:.2f}'} | {'–' if a is None else f'{a:.2f}'} | {delta} |")
    return "\n".join(lines)


def _run_section(record: RunRecord) -> str:
    base = record.base_model + (f" (revision `{record.base_model_revision}`)" if record.base_model_revision else "")
    lines = [
        "## losslab run",
        "",
        f"- **Base model:** {base}",
        f"- **Loss:** `{record.loss_class}` with `{json.dumps(record.loss_args, sort_keys=True, default=str)}`",
        f"- **Training data:** {record.train_dataset}"
        + (f", {record.train_rows:,} rows" if record.train_rows is not None else ""),
        f"- **Steps:** {record.steps:,}; **seed:** {record.seed}; **precision:** {record.precision}",
    ]
    if record.best_validation is not None:
        lines.append(f"- **Best validation:** `{record.best_validation[0]}` = {record.best_validation[1]:.4f}")
    if record.wandb_run_id or record.wandb_url:
        run = (
            f"[{record.wandb_run_id or 'run'}]({record.wandb_url})" if record.wandb_url else f"`{record.wandb_run_id}`"
        )
        lines.append(f"- **Weights & Biases run:** {run}")
    if record.mteb_before or record.mteb_after:
        lines += ["", "### MTEB (main score ×100)", "", _scores_table(record.mteb_before, record.mteb_after)]
    if record.config_text.strip():  # a fit outside the CLI has no config.yaml
        lines += ["", "<details><summary>The run's config.yaml</summary>", "", "```yaml", record.config_text.rstrip()]
        lines += ["```", "", "</details>"]
    return "\n".join([*lines, ""])


def render_model_card(model_dir: str | Path, record: RunRecord) -> str:
    """The card text: sentence-transformers' template filled from ``record``, plus a losslab run section.

    Args:
        model_dir: The exported sentence-transformers model directory.
        record: The run.

    Returns:
        The Markdown of ``README.md`` (YAML metadata header included).
    """
    from sentence_transformers import SentenceTransformer, SentenceTransformerModelCardData
    from sentence_transformers.base.model_card import generate_model_card

    loss_json = json.dumps(record.loss_args, indent=4, sort_keys=True, default=str)
    card_data = SentenceTransformerModelCardData(
        model_name=f"{record.loss_name} fine-tune of {record.hub_base_model or Path(record.base_model).name}",
        model_id=record.model_id,
        language=record.language or [],
        license=record.license,
        train_datasets=[
            {
                "name": record.train_dataset,
                **({"size": record.train_rows} if record.train_rows is not None else {}),
                "columns": [f"<code>{c}</code>" for c in record.train_columns],
                "loss": {
                    "fullname": record.loss_class,
                    "config_code": f"```json\n{loss_json}\n```",
                },
            }
        ],
        local_files_only=True,  # the card never asks the Hub anything
    )
    model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True, model_card_data=card_data)
    # Set directly: set_base_model() would look the model up on the Hub.
    card_data.base_model = record.hub_base_model
    card_data.base_model_revision = record.base_model_revision
    card_data.add_tags(["losslab", f"loss:{record.loss_name}"])
    card_data.all_hyperparameters = {
        "max_steps": record.steps,
        "seed": record.seed,
        "precision": record.precision,
        **{f"loss.{k}": v for k, v in sorted(record.loss_args.items())},
    }
    text = generate_model_card(model)
    section = _run_section(record)
    if _SECTION_BEFORE in text:
        return text.replace(_SECTION_BEFORE, section + "\n" + _SECTION_BEFORE, 1)
    return text.rstrip() + "\n\n" + section


def write_model_card(model_dir: str | Path, record: RunRecord) -> Path:
    """Write ``<model_dir>/README.md`` (atomically) from the run: see :func:`render_model_card`.

    Args:
        model_dir: The exported sentence-transformers model directory (``<run_dir>/model``).
        record: The run.

    Returns:
        The README written.
    """
    return atomic_write_text(Path(model_dir) / "README.md", render_model_card(model_dir, record))
