"""Seeded train/validation splits."""

from __future__ import annotations

import numpy as np

from core.batch_formats import LabelKind
from datamodules.source_format import source_label_kind
from datamodules.text_dataset import TextDataset


def split_off(dataset: TextDataset, fraction: float, seed: int) -> tuple[TextDataset, TextDataset]:
    """Split ``fraction`` of the rows off as a validation set (stratified by class for class labels).

    Stratification keeps every class's proportion, and at least one row of each class in training.

    Args:
        dataset: The rows to split.
        fraction: Share of rows for validation, in (0, 1).
        seed: Seed of the split.

    Returns:
        ``(train, validation)``, each in the original row order.
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"val_split={fraction}: expected a fraction in (0, 1)")
    rng = np.random.default_rng(seed)
    if source_label_kind(dataset.format) is LabelKind.CLASS_ID:
        groups = [np.flatnonzero(dataset.labels == value) for value in np.unique(dataset.labels)]
    else:
        groups = [np.arange(len(dataset))]
    val_parts = []
    for group in groups:
        count = min(int(round(len(group) * fraction)), len(group) - 1)
        val_parts.append(rng.permutation(group)[:count])
    val = np.sort(np.concatenate(val_parts))
    if val.size == 0:
        raise ValueError(f"val_split={fraction} leaves no validation rows out of {len(dataset)}")
    train = np.setdiff1d(np.arange(len(dataset)), val)
    name = f"{dataset.name} (val_split={fraction}, seed={seed})"
    return dataset.subset(train, name=f"{name} train part"), dataset.subset(val, name=f"{name} val part")
