"""Throughput of the training data pipeline alone (no model): batches/s on STS-B train.

Prints batches/s of ``NamedDataModule("stsb").train_dataloader()`` (sampling + collation, which
tokenises each batch with dynamic padding) for a few batch sizes and worker counts, and how much of a
single-process epoch the tokenizer itself takes (best of 3), to show what tokenize-once caching could save.

Usage: ``LOSSLAB_DATA_DIR=/path/to/shared/data python benchmarks/data_pipeline.py``
"""

from __future__ import annotations

import os
import time
import warnings
from functools import partial

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from datamodules.named_datamodule import NamedDataModule  # noqa: E402


def _best_seconds(run, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def _tokenize_epoch(tokenizer, columns: list[list[str]], batch_size: int) -> None:
    for i in range(0, len(columns[0]), batch_size):
        for column in columns:
            tokenizer(column[i : i + batch_size], padding=True, truncation=True, max_length=256, return_tensors="pt")


def main() -> None:
    warnings.filterwarnings("ignore", message=".*duplicate rows.*")
    for batch_size in (32, 128):
        for num_workers in (0, 2):
            dm = NamedDataModule("stsb", batch_size=batch_size, num_workers=num_workers)
            dm.setup("fit")
            loader = dm.train_dataloader()
            seconds = _best_seconds(partial(list, loader))
            rate = len(loader) / seconds
            print(f"stsb train  batch_size={batch_size:4d}  num_workers={num_workers}  {rate:8.1f} batches/s")
            if num_workers == 0:
                tokenize = _best_seconds(partial(_tokenize_epoch, dm.tokenizer, dm.train_data.columns, batch_size))
                print(f"  tokenizer alone: {tokenize:.2f}s of a {seconds:.2f}s epoch ({tokenize / seconds:.0%})")


if __name__ == "__main__":
    main()
