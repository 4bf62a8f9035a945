"""Which training sampler serves which loss, and whether labelled data can feed P×K batches."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pytorch_lightning.utilities.rank_zero import rank_zero_warn

from core.batch_formats import BatchFormat, BatchSampling, LabelKind
from datamodules.errors import DataValidationError
from datamodules.samplers import check_pk_batch_size

SamplerName = Literal["auto", "random", "pk", "no_duplicates"]
SAMPLER_FOR: dict[BatchSampling, str] = {
    BatchSampling.RANDOM: "random",
    BatchSampling.PK: "pk",
    BatchSampling.NO_DUPLICATES: "no_duplicates",
}


def check_pk_labels(labels: np.ndarray, label_names: list[str] | None, name: str, samples_per_label: int) -> None:
    """Refuse labels that cannot fill P×K batches; warn about classes sampled with replacement.

    Args:
        labels: Class id per row.
        label_names: Names of the class ids (for the error message), if known.
        name: The data's name (file), for the error message.
        samples_per_label: K.

    Raises:
        DataValidationError: Fewer than 2 classes, or a class with a single example (named with its first row).
    """
    values, first_rows, counts = np.unique(labels, return_index=True, return_counts=True)
    if len(values) < 2:
        raise DataValidationError(f"{name}: P×K sampling needs at least 2 classes, found {len(values)}")
    single = np.flatnonzero(counts < 2)
    if single.size:
        names = label_names or []
        shown = [names[v] if v < len(names) else int(v) for v in values[single][:10]]
        raise DataValidationError(
            f"{name}, row {first_rows[single[0]] + 1}: {single.size} class(es) have a single example "
            f"(e.g. {shown}); P×K sampling needs >= 2 per class: drop them or use another sampler"
        )
    if (counts < samples_per_label).any():
        rank_zero_warn(
            f"{name}: {int((counts < samples_per_label).sum())} classes have fewer than "
            f"samples_per_label={samples_per_label} examples; they are sampled with replacement"
        )


def check_pk_config(train_format: BatchFormat, description: str, batch_size: int, samples_per_label: int) -> None:
    """Refuse P×K sampling for data without class ids or a batch size that K does not divide.

    Args:
        train_format: The training batch format.
        description: The data, as named in the error.
        batch_size: Training batch size (P×K).
        samples_per_label: K.
    """
    if train_format.label_kind is not LabelKind.CLASS_ID:
        raise ValueError(
            f"P×K sampling needs class labels, but {description} has no class ids; "
            "use a labeled dataset or another sampler"
        )
    check_pk_batch_size(batch_size, samples_per_label)
