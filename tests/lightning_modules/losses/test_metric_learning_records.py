"""Reading PML's records: sub-losses captured only inside the block, records of a module and its submodules."""

from __future__ import annotations

import torch
from pytorch_metric_learning import distances, losses, miners

from lightning_modules.losses.metric_learning_records import as_statistics, recorded_stats, sub_losses


def test_sub_losses_are_captured_inside_the_block_only() -> None:
    loss = losses.ProxyAnchorLoss(3, 4)
    x, labels = torch.randn(6, 4), torch.tensor([0, 0, 1, 1, 2, 2])
    with sub_losses(loss) as captured:
        total = loss(x, labels)
    assert set(captured) == {"pos_loss", "neg_loss"} and not any(v.requires_grad for v in captured.values())
    torch.testing.assert_close(captured["pos_loss"] + captured["neg_loss"], total.detach())
    reducers = [*loss.reducer.reducers.values(), loss.reducer.default_reducer]
    assert not any(reducer._forward_hooks for reducer in reducers)  # the hooks are gone
    loss(x, labels)
    assert set(captured) == {"pos_loss", "neg_loss"}


def test_a_single_sub_loss_yields_nothing() -> None:
    loss = losses.MultiSimilarityLoss()
    with sub_losses(loss) as captured:
        loss(torch.randn(4, 3), torch.tensor([0, 0, 1, 1]))
    assert captured == {}


def test_records_of_submodules_carry_their_path() -> None:
    miner = miners.BatchHardMiner(collect_stats=True, distance=distances.LpDistance(collect_stats=True))
    x = torch.randn(6, 3)
    mined = miner(x, torch.tensor([0, 0, 1, 1, 2, 2]))
    records = recorded_stats(miner, "miner.", mined)
    assert records["miner.num_triplets"] == 6 and "miner.num_pos_pairs" not in records
    assert {"miner.hardest_triplet", "miner.hardest_pos_pair", "miner.hardest_neg_pair"} <= set(records)
    torch.testing.assert_close(torch.tensor(records["miner.distance.initial_avg_query_norm"]), x.norm(dim=1).mean())
    stats = as_statistics(records)
    assert all(v.dtype == torch.float32 and v.ndim == 0 for v in stats.values())
    assert recorded_stats(None) == {}
