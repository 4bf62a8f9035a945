"""Time and peak memory of the batch triplet losses, ours vs sentence-transformers, on the same embeddings.

Every measurement (loss value + backward to the embeddings) runs in a fresh process so peak memory is
that of the loss alone: peak resident set growth on CPU, peak allocated memory on CUDA. The two
implementations alternate for each configuration. Batches hold ``B`` random 384-d embeddings with
``labels`` classes of equal size.

    python benchmarks/loss_kernels.py --batch-sizes 128 512 1024 --labels 2 32
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import statistics
import time

LOSSES = ("BatchAllTripletLoss", "BatchHardTripletLoss", "BatchSemiHardTripletLoss", "BatchHardSoftMarginTripletLoss")
COLUMNS = ("loss", "B", "labels", "ours s", "ST s", "speed-up", "ours MiB", "ST MiB")


def _measure(impl: str, loss_name: str, batch_size: int, n_labels: int, repeats: int, queue: mp.Queue) -> None:
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    g = torch.Generator().manual_seed(0)
    embeddings = torch.randn(batch_size, 384, generator=g).to(device)
    labels = (torch.arange(batch_size) % n_labels)[torch.randperm(batch_size, generator=g)].to(device)
    if impl == "ours":
        import lightning_modules.losses as ours

        loss = getattr(ours, loss_name)()

        def compute(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            return loss([x], y).loss
    else:
        from sentence_transformers.sentence_transformer import losses as st

        loss = getattr(st, loss_name)(None)

        def compute(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            return loss.compute_loss_from_embeddings([x], y)

    def step() -> float:
        x = embeddings.clone().requires_grad_()
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        compute(x, labels).backward()
        if device == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - start

    # Warm up on a small batch (kernel and thread-pool initialisation), then measure the peak of one step.
    compute(embeddings[:8].clone().requires_grad_(), labels[:8]).backward()
    baseline_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
        start_bytes = torch.cuda.memory_allocated()
    times = [step()]
    if device == "cuda":
        peak_mb = (torch.cuda.max_memory_allocated() - start_bytes) / 2**20
    else:
        peak_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - baseline_kb) / 1024
    times += [step() for _ in range(repeats - 1)]
    queue.put((device, statistics.median(times), peak_mb))


def measure(impl: str, loss_name: str, batch_size: int, n_labels: int, repeats: int) -> tuple[str, float, float]:
    """One implementation on one configuration, in a fresh process: (device, median seconds, peak MiB)."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_measure, args=(impl, loss_name, batch_size, n_labels, repeats, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--losses", nargs="+", default=list(LOSSES), choices=LOSSES)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[128, 512, 1024])
    parser.add_argument("--labels", type=int, nargs="+", default=[2, 32])
    parser.add_argument("--repeats", type=int, default=3, help="timed steps per measurement (median reported)")
    args = parser.parse_args()
    print("| " + " | ".join(COLUMNS) + " |")
    print("|" + "---|" * len(COLUMNS))
    device = "?"
    for loss_name in args.losses:
        for batch_size in args.batch_sizes:
            for n_labels in args.labels:
                device, ours_s, ours_mb = measure("ours", loss_name, batch_size, n_labels, args.repeats)
                _, st_s, st_mb = measure("st", loss_name, batch_size, n_labels, args.repeats)
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
