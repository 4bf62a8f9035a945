"""Throughput of the training data pipeline alone (no model): batches/s on STS-B train.

Prints batches/s of ``EmbeddingDataModule(NamedSource("stsb")).train_dataloader()`` (sampling + collation, which
tokenises each batch with dynamic padding) for a few batch sizes and worker counts, and how much of a
single-process epoch the tokenizer itself takes (best of 3), to show what tokenize-once caching could save.
Then the training step rate of the model these batches feed (all-MiniLM-L6-v2, CoSENT, batch 32, AdamW,
bf16 autocast where the CPU runs bf16 natively; batches drawn beforehand, a warm-up step excluded) and the
ratio of the two: far above 1 means the single-process loader is not the bottleneck.

Usage: ``LOSSLAB_DATA_DIR=/path/to/shared/data python benchmarks/data_pipeline.py``
"""

from __future__ import annotations

import os
import time
import warnings
from functools import partial

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import torch  # noqa: E402

from datamodules import BatchingOptions, EmbeddingDataModule  # noqa: E402
from datamodules.sources import NamedSource  # noqa: E402
from experiments.precision import cpu_supports_bf16  # noqa: E402
from lightning_modules.encoders.hf_encoder import HFEncoder  # noqa: E402
from lightning_modules.losses.cosent import CoSENTLoss  # noqa: E402

MODEL_BATCH_SIZE = 32
MODEL_STEPS = 5


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


def model_steps_per_second(dm: EmbeddingDataModule, steps: int) -> tuple[float, bool]:
    """Training steps/s of all-MiniLM-L6-v2 under CoSENT on ``dm``'s batches, and whether bf16 was used."""
    encoder = HFEncoder(max_seq_length=dm.max_seq_length).train()
    loss = CoSENTLoss()
    optimizer = torch.optim.AdamW(encoder.parameters(), lr=2e-5)
    batches = iter(dm.train_dataloader())
    # Draw the batches first so the rate is the model's alone; one extra step warms up the kernels.
    inputs = [next(batches) for _ in range(steps + 1)]
    bf16 = cpu_supports_bf16()
    start = 0.0
    for index, batch in enumerate(inputs):
        if index == 1:
            start = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            output = loss.training_loss(encoder, batch)
        output.loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    return steps / (time.perf_counter() - start), bf16


def main() -> None:
    warnings.filterwarnings("ignore", message=".*duplicate rows.*")
    loader_rates = {}
    for batch_size in (MODEL_BATCH_SIZE, 128):
        for num_workers in (0, 2):
            batching = BatchingOptions(batch_size=batch_size, num_workers=num_workers)
            dm = EmbeddingDataModule(NamedSource("stsb"), batching)
            dm.setup("fit")
            loader = dm.train_dataloader()
            seconds = _best_seconds(partial(list, loader))
            rate = loader_rates[batch_size, num_workers] = len(loader) / seconds
            print(f"stsb train  batch_size={batch_size:4d}  num_workers={num_workers}  {rate:8.1f} batches/s")
            if num_workers == 0:
                tokenize = _best_seconds(partial(_tokenize_epoch, dm.tokenizer, dm.train_data.columns, batch_size))
                print(f"  tokenizer alone: {tokenize:.2f}s of a {seconds:.2f}s epoch ({tokenize / seconds:.0%})")
    dm = EmbeddingDataModule(NamedSource("stsb"), BatchingOptions(batch_size=MODEL_BATCH_SIZE))
    dm.setup("fit")
    steps, bf16 = model_steps_per_second(dm, MODEL_STEPS)
    loader = loader_rates[MODEL_BATCH_SIZE, 0]
    print(
        f"model: all-MiniLM-L6-v2 + CoSENT, batch_size={MODEL_BATCH_SIZE}, {'bf16 autocast' if bf16 else 'fp32'}, "
        f"torch threads={torch.get_num_threads()}: {steps:.2f} steps/s over {MODEL_STEPS} steps"
    )
    print(f"loader (num_workers=0) batches/s / model steps/s = {loader:.1f} / {steps:.2f} = {loader / steps:.0f}x")


if __name__ == "__main__":
    main()
