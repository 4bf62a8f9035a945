"""Two-process CPU DDP (gloo): gradient-cached losses train exactly like the uncached loss on the global batch.

DDP wraps a module that owns the encoder and the loss and computes the loss in its forward, as Lightning's
DDP strategy wraps the LightningModule around ``training_step``; so the replayed mini-batches run inside
DDP's backward pass, where each parameter's gradient must be accumulated (and all-reduced) once.

Both sides run in float64. Two ranks and one process add the same terms in different orders (per-rank
partial sums, then the all-reduce), which in float32 moves gradients by a few 1e-7 relative — a run here
once missed a float32 ``atol=1e-6`` by 1.15e-6. In float64 that reordering error is ~1e-15 relative, so
the tight tolerance below separates "same computation, other order" from any real difference.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel

from core.batch_formats import BatchFormat, TokenizedBatch
from lightning_modules.encoders.hf_encoder import HFEncoder
from lightning_modules.losses.base import EmbeddingLoss
from lightning_modules.losses.batch_all_triplet import BatchAllTripletLoss
from lightning_modules.losses.cached_multiple_negatives_ranking import CachedMultipleNegativesRankingLoss
from lightning_modules.losses.contrastive_tension_in_batch_negatives import ContrastiveTensionLossInBatchNegatives
from lightning_modules.losses.gradient_cached import GradientCachedLoss
from lightning_modules.losses.multiple_negatives_ranking import MultipleNegativesRankingLoss
from tests.lightning_modules.ddp import run_distributed
from tests.lightning_modules.losses.text_batches import sentences

WORLD_SIZE = 2
LOCAL_BATCH = 5
MINI = 2  # three mini-batches per rank and column, the last one smaller
LABELS = torch.arange(WORLD_SIZE * LOCAL_BATCH) % 3  # classes straddle the ranks

# name: (batch format, cached loss under DDP, the same loss uncached in one process)
CASES: dict[str, tuple[BatchFormat, Callable[[], EmbeddingLoss], Callable[[], EmbeddingLoss]]] = {
    "cached_mnrl": (
        BatchFormat.TRIPLET,
        lambda: CachedMultipleNegativesRankingLoss(mini_batch_size=MINI, gather_across_devices=True),
        MultipleNegativesRankingLoss,
    ),
    "cached_batch_all": (
        BatchFormat.LABELED,
        lambda: GradientCachedLoss(BatchAllTripletLoss(margin=1.0, gather_across_devices=True), MINI),
        lambda: BatchAllTripletLoss(margin=1.0),
    ),
    # Two encoders (the copy is trained too) and a loss parameter (the logit scale).
    "cached_ct_in_batch": (
        BatchFormat.SINGLE,
        lambda: GradientCachedLoss(ContrastiveTensionLossInBatchNegatives(gather_across_devices=True), MINI),
        ContrastiveTensionLossInBatchNegatives,
    ),
}


class _Step(nn.Module):
    """Encoder + loss, the loss computed in ``forward`` (what DDP sees of a LightningModule)."""

    def __init__(self, model_dir: str, loss: EmbeddingLoss) -> None:
        super().__init__()
        self.encoder = HFEncoder(model_dir)
        self.encoder.eval()  # no dropout: the ranks' RNG streams differ from the single process's
        self.loss = loss
        loss.bind_encoder(self.encoder)
        self.double()

    def forward(self, batch: TokenizedBatch) -> Tensor:
        return self.loss.training_loss(self.encoder, batch).loss


def _batch(step: _Step, batch_format: BatchFormat, rows: slice) -> TokenizedBatch:
    n = WORLD_SIZE * LOCAL_BATCH
    columns = [sentences(n, seed=c)[rows] for c in range(len(batch_format.columns))]
    labels = LABELS[rows] if batch_format is BatchFormat.LABELED else None
    return TokenizedBatch([step.encoder.tokenize(col) for col in columns], labels, batch_format, columns)


def _loss_and_grads(model: nn.Module, step: _Step, batch: TokenizedBatch) -> tuple[Tensor, dict[str, Tensor]]:
    value = model(batch)
    value.backward()
    grads = {name: p.grad.clone() for name, p in step.named_parameters() if p.grad is not None}
    # GradientCachedLoss holds the wrapped loss as ``.loss``: name its parameters as the unwrapped loss's.
    return value.detach(), {name.replace("loss.loss.", "loss.", 1): g for name, g in grads.items()}


def _worker(rank: int, out_dir: str, model_dir: str) -> None:
    rows = slice(rank * LOCAL_BATCH, (rank + 1) * LOCAL_BATCH)
    for name, (batch_format, cached, _) in CASES.items():
        step = _Step(model_dir, cached())
        ddp = DistributedDataParallel(step)
        torch.save(_loss_and_grads(ddp, step, _batch(step, batch_format, rows)), Path(out_dir) / f"{name}-{rank}.pt")
        dist.barrier()  # retire this DDP wrapper on both ranks before the next one starts
        del ddp


@pytest.fixture(scope="module")
def ddp_results(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Path:
    """One spawn for all cases: process start-up dominates the run time."""
    out_dir = tmp_path_factory.mktemp("gradient_cache_ddp")
    run_distributed(_worker, WORLD_SIZE, str(out_dir), str(tiny_model_dir))
    return out_dir


@pytest.mark.parametrize("case", sorted(CASES))
def test_cached_loss_under_ddp_matches_single_process(case, ddp_results, tiny_model_dir):
    batch_format, _, uncached = CASES[case]
    step = _Step(str(tiny_model_dir), uncached())
    expected_loss, expected_grads = _loss_and_grads(step, step, _batch(step, batch_format, slice(None)))
    results = [torch.load(ddp_results / f"{case}-{rank}.pt") for rank in range(WORLD_SIZE)]
    losses = torch.stack([loss for loss, _ in results])
    if batch_format is BatchFormat.LABELED:
        torch.testing.assert_close(losses, expected_loss.expand(WORLD_SIZE))  # every rank: the global loss
    else:
        torch.testing.assert_close(losses.mean(), expected_loss)  # each rank: the mean over its own anchors
    assert len(expected_grads) > 0
    for _, grads in results:
        # DDP averaged the ranks' gradients: every rank holds the single-process gradient.
        assert grads.keys() == expected_grads.keys()
        for name, expected in expected_grads.items():
            # float64 reordering error is ~1e-15 relative to the largest terms (~1): 1e-10 leaves a wide margin.
            torch.testing.assert_close(
                grads[name], expected, rtol=1e-9, atol=1e-10, msg=lambda m, name=name: f"{name}: {m}"
            )
