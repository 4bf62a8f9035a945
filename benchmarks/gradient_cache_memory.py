"""Peak memory of one MNRL training step, uncached vs gradient-cached, as the batch grows.

Each measurement runs in a fresh process (after a warm-up step on two pairs, so library initialisation is
not counted) and reports the growth of the peak resident set size (CPU) over the state just before the
step, or the peak allocated CUDA memory when a GPU is present. Timings on a shared CPU are indicative.

    python benchmarks/gradient_cache_memory.py --batch-sizes 32 128 512 --mini-batch-size 32

The "vs first" column is the cached step's peak relative to the cached peak at the first (smallest) batch
size: flat memory means it stays near 1 as the batch grows.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import time

from fresh_process import peak_rss_kb, run_in_fresh_process

os.environ.setdefault("HF_HUB_OFFLINE", "1")

WORDS = "the a river stone light garden music paper window cloud forest engine silver market".split()
COLUMNS = ("batch", "uncached MiB", "cached MiB", "ratio", "vs first", "uncached s", "cached s")


def _step(model: str, batch_size: int, mini_batch_size: int | None, max_seq_length: int, queue: mp.Queue) -> None:
    import torch

    from core.batch_formats import BatchFormat, TokenizedBatch
    from lightning_modules.encoders.hf_encoder import HFEncoder
    from lightning_modules.losses.cached_multiple_negatives_ranking import CachedMultipleNegativesRankingLoss
    from lightning_modules.losses.multiple_negatives_ranking import MultipleNegativesRankingLoss

    torch.manual_seed(0)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    encoder = HFEncoder(model, max_seq_length=max_seq_length).to(device)

    def pairs(n: int) -> TokenizedBatch:
        # Long texts, truncated to max_seq_length: every row has the same length.
        texts = [[" ".join(WORDS[(7 * i + c + k) % len(WORDS)] for k in range(64)) for i in range(n)] for c in (0, 1)]
        return TokenizedBatch([encoder.tokenize(t) for t in texts], None, BatchFormat.PAIR, texts).to(device)

    if mini_batch_size is None:
        loss = MultipleNegativesRankingLoss()
    else:
        loss = CachedMultipleNegativesRankingLoss(mini_batch_size=mini_batch_size)
    batch = pairs(batch_size)
    loss.training_loss(encoder, pairs(2)).loss.backward()  # warm-up: lazy initialisation of kernels/threads
    encoder.zero_grad(set_to_none=True)
    baseline_kb = peak_rss_kb()
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
        start_bytes = torch.cuda.memory_allocated()
    start = time.perf_counter()
    loss.training_loss(encoder, batch).loss.backward()
    seconds = time.perf_counter() - start
    if device == "cuda":
        peak_mb = (torch.cuda.max_memory_allocated() - start_bytes) / 2**20
    else:
        peak_mb = (peak_rss_kb() - baseline_kb) / 1024
    queue.put((device, peak_mb, seconds))


def measure(model: str, batch_size: int, mini_batch_size: int | None, max_seq_length: int) -> tuple:
    """Run one training step in a fresh process; return (device, peak memory growth in MiB, seconds)."""
    return run_in_fresh_process(_step, model, batch_size, mini_batch_size, max_seq_length)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="sentence-transformers/all-MiniLM-L6-v2")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 128, 512])
    parser.add_argument("--mini-batch-size", type=int, default=32)
    parser.add_argument("--max-seq-length", type=int, default=32)
    args = parser.parse_args()
    print(f"model={args.model} max_seq_length={args.max_seq_length} mini_batch_size={args.mini_batch_size}")
    print(" ".join(f"{c:>12}" for c in COLUMNS))
    first_cached_mb: float | None = None
    for batch_size in args.batch_sizes:
        device, plain_mb, plain_s = measure(args.model, batch_size, None, args.max_seq_length)
        _, cached_mb, cached_s = measure(args.model, batch_size, args.mini_batch_size, args.max_seq_length)
        first_cached_mb = first_cached_mb or cached_mb
        ratio = plain_mb / cached_mb if cached_mb > 0 else float("inf")
        row = (
            f"{batch_size}",
            f"{plain_mb:.1f}",
            f"{cached_mb:.1f}",
            f"{ratio:.2f}",
            f"{cached_mb / first_cached_mb:.2f}",
            f"{plain_s:.2f}",
            f"{cached_s:.2f}",
        )
        print(" ".join(f"{v:>12}" for v in row))
    print(f"device: {device}")


if __name__ == "__main__":
    main()
