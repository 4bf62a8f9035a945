"""TrialBatch: copies of the PML loss and miner meet a tiny batch; the originals and the global RNG do not."""

from __future__ import annotations

import pytest
import torch
from pytorch_metric_learning import losses, miners

from core.batch_formats import BatchFormat
from lightning_modules.losses.metric_learning_trial import TrialBatch


def test_the_loss_keeps_its_dtype_and_the_global_rng_its_state() -> None:
    # PML casts class weights in place to the embeddings' dtype (the trial's are float32).
    arcface = losses.ArcFaceLoss(2, 8).double()
    TrialBatch(BatchFormat.LABELED, 8, num_classes=2).run("trial", arcface, miners.BatchHardMiner())
    assert arcface.W.dtype == torch.float64
    # triplets_per_anchor=1 samples its triplets from the global RNG.
    state = torch.get_rng_state()
    TrialBatch(BatchFormat.LABELED, 8).run("trial", losses.TripletMarginLoss(triplets_per_anchor=1), None)
    assert torch.equal(torch.get_rng_state(), state)


def test_a_bare_assert_is_reported_by_its_source_line() -> None:
    # ManifoldLoss asserts its embedding size without a message.
    with pytest.raises(ValueError, match=r"^trial cannot train on triplet .*: AssertionError at `assert embeddings"):
        TrialBatch(BatchFormat.TRIPLET, 8).run("trial", losses.ManifoldLoss(l=16), None)
