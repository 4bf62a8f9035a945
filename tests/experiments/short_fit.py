"""Trainer overrides and a small STS task for the few-step CLI fits the tests run on the tiny model."""

import csv
from pathlib import Path


def short_fit(steps: int, val_every: int | None = None) -> list[str]:
    """``--trainer.*`` flags: ``steps`` steps, validation on 2 batches every ``val_every`` steps, log every step."""
    return [
        "--trainer.max_steps",
        str(steps),
        "--trainer.limit_val_batches",
        "2",
        "--trainer.val_check_interval",
        str(val_every or steps),
        "--trainer.log_every_n_steps",
        "1",
    ]


def write_sts_subset(data_dir: Path, path: Path, pairs: int) -> Path:
    """A small local STS task at ``path``: the first ``pairs`` STSb test pairs (fits compare MTEB scores fast)."""
    with open(data_dir / "stsb" / "test.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))[:pairs]
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["sentence1", "sentence2", "score"])
        writer.writeheader()
        writer.writerows({k: row[k] for k in ("sentence1", "sentence2", "score")} for row in rows)
    return path
