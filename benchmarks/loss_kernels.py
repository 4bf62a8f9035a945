"""Time and peak memory of the batch triplet losses, ours vs sentence-transformers, on the same embeddings.

A step is the loss value plus its backward pass to the embeddings. Times are medians over steps of the
two implementations alternating in one process (at least ``--seconds`` per configuration). Peak memory
is measured for one step in a fresh process per implementation, so it is that of the loss alone: peak
resident set growth on CPU, peak allocated memory on CUDA. Batches hold ``B`` random 384-d embeddings
with ``labels`` classes of equal size.

    python benchmarks/loss_kernels.py --batch-sizes 128 512 1024 --labels 2 32
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import time
from collections.abc import Callable

from fresh_process import peak_rss_kb, run_in_fresh_process

LOSSES = ("BatchAllTripletLoss", "BatchHardTripletLoss", "BatchSemiHardTripletLoss", "BatchHardSoftMarginTripletLoss")
COLUMNS = ("loss", "B", "labels", "ours s", "ST s", "speed-up", "ours MiB", "ST MiB")


def _setup(impl: str, loss_name: str, batch_size: int, n_labels: int) -> tuple[Callable[[], None], str]:
    """A function running one loss step (value + backward) on fixed embeddings, and the device."""
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    g = torch.Generator().manual_seed(0)
    embeddings = torch.randn(batch_size, 384, generator=g).to(device)
    labels = (torch.arange(batch_size) % n_labels)[torch.randperm(batch_size, generator=g)].to(device)
    if impl == "ours":
        import lightning_modules.losses as ours

        ours_loss = getattr(ours, loss_name)()

        def compute(x: torch.Tensor) -> torch.Tensor:
            return ours_loss([x], labels).loss
    else:
        from sentence_transformers.sentence_transformer import losses as st

        st_loss = getattr(st, loss_name)(None)

        def compute(x: torch.Tensor) -> torch.Tensor:
            return st_loss.compute_loss_from_embeddings([x], labels)

    def step() -> None:
        compute(embeddings.clone().requires_grad_()).backward()
        if device == "cuda":
            torch.cuda.synchronize()

    return step, device


def _peak_memory(impl: str, loss_name: str, batch_size: int, n_labels: int, queue: mp.Queue) -> None:
    """Peak memory growth of one step, after a warm-up step on the same shapes (fresh process)."""
    import torch

    step, device = _setup(impl, loss_name, 8, 2)  # 2 classes: the warm-up batch has valid triplets
    step()  # lazy initialisation of kernels and thread pools
    step, device = _setup(impl, loss_name, batch_size, n_labels)
    baseline_kb = peak_rss_kb()
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
        start_bytes = torch.cuda.memory_allocated()
    step()
    if device == "cuda":
        queue.put((torch.cuda.max_memory_allocated() - start_bytes) / 2**20)
    else:
        queue.put((peak_rss_kb() - baseline_kb) / 1024)


def peak_memory(impl: str, loss_name: str, batch_size: int, n_labels: int) -> float:
    """Peak memory growth (MiB) of one step of one implementation, measured in a fresh process."""
    return run_in_fresh_process(_peak_memory, impl, loss_name, batch_size, n_labels)


def alternating_times(loss_name: str, batch_size: int, n_labels: int, min_seconds: float) -> tuple[str, float, float]:
    """Median step time of ours and of sentence-transformers, the two alternating step by step."""
    ours, device = _setup("ours", loss_name, batch_size, n_labels)
    reference, _ = _setup("st", loss_name, batch_size, n_labels)
    ours()
    reference()
    times: dict[Callable[[], None], list[float]] = {ours: [], reference: []}
    started = time.perf_counter()
    while min(len(t) for t in times.values()) < 3 or time.perf_counter() - started < min_seconds:
        for step, timings in times.items():
            start = time.perf_counter()
            step()
            timings.append(time.perf_counter() - start)
    return device, statistics.median(times[ours]), statistics.median(times[reference])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--losses", nargs="+", default=list(LOSSES), choices=LOSSES)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[128, 512, 1024])
    parser.add_argument("--labels", type=int, nargs="+", default=[2, 32])
    parser.add_argument("--seconds", type=float, default=2.0, help="time each configuration for at least this long")
    args = parser.parse_args()
    print("| " + " | ".join(COLUMNS) + " |")
    print("|" + "---|" * len(COLUMNS))
    device = "?"
    for loss_name in args.losses:
        for batch_size in args.batch_sizes:
            for n_labels in args.labels:
                device, ours_s, st_s = alternating_times(loss_name, batch_size, n_labels, args.seconds)
                ours_mb = peak_memory("ours", loss_name, batch_size, n_labels)
                st_mb = peak_memory("st", loss_name, batch_size, n_labels)
                row = (
                    loss_name,
                    str(batch_size),
                    str(n_labels),
                    f"{ours_s:.4f}",
                    f"{st_s:.4f}",
                    f"{st_s / ours_s:.1f}x",
                    f"{ours_mb:.0f}",
                    f"{st_mb:.0f}",
                )
                print("| " + " | ".join(row) + " |", flush=True)
    print(f"device: {device}")


if __name__ == "__main__":
    main()
