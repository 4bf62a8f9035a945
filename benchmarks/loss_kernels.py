"""Time and peak memory of embedding-level losses, ours vs their reference implementation, on the same embeddings.

A step is the loss value plus its backward pass to the embeddings (``st_loss_steps.py`` builds them against
sentence-transformers: the batch triplet losses, GIST, the cached losses' loss computation, DistillKLDiv,
EmbedDistill, GOR; ``pml_loss_steps.py`` the ``PML ...`` rows: MetricLearningLoss against the same
pytorch-metric-learning loss and miner called directly, i.e. the adapter's overhead). Times are
medians over steps of the two implementations alternating in one process (at least ``--seconds`` per
configuration). Peak memory is measured for one step in a fresh process per implementation, so it is that
of the loss alone: peak resident set growth on CPU, peak allocated memory on CUDA. Batches hold ``B``
random 384-d embeddings per column; the batch triplet losses' and the PML rows' have ``labels`` classes of
equal size (the other losses have no classes: one row per batch size).

    python benchmarks/loss_kernels.py --batch-sizes 128 512 1024 --labels 2 32
    OMP_NUM_THREADS=1 python benchmarks/loss_kernels.py --losses "PML MultiSimilarityLoss" --batch-sizes 128 512
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import time
from collections.abc import Callable

from fresh_process import peak_rss_kb, run_in_fresh_process
from pml_loss_steps import STEPS as PML_STEPS
from st_loss_steps import STEPS as ST_STEPS
from st_loss_steps import TRIPLET_LOSSES

STEPS = {**ST_STEPS, **PML_STEPS}
LOSSES = tuple(STEPS)
LABELED_LOSSES = (*TRIPLET_LOSSES, *PML_STEPS)  # rows per number of classes
COLUMNS = ("loss", "B", "labels", "ours s", "reference s", "speed-up", "ours MiB", "reference MiB")


def _setup(impl: str, loss_name: str, batch_size: int, n_labels: int) -> tuple[Callable[[], None], str]:
    """A function running one loss step (value + backward) on fixed embeddings, and the device."""
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    return STEPS[loss_name](impl, batch_size, n_labels, device), device


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
    """Median step time of ours and of the reference, the two alternating step by step."""
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
            for n_labels in args.labels if loss_name in LABELED_LOSSES else args.labels[:1]:
                device, ours_s, st_s = alternating_times(loss_name, batch_size, n_labels, args.seconds)
                ours_mb = peak_memory("ours", loss_name, batch_size, n_labels)
                st_mb = peak_memory("st", loss_name, batch_size, n_labels)
                row = (
                    loss_name,
                    str(batch_size),
                    str(n_labels) if loss_name in LABELED_LOSSES else "–",
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
