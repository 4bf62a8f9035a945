"""Triplet miners: index selection under ``no_grad``, shared by the batch triplet losses."""

from lightning_modules.miners.base import TripletMiner, Triplets
from lightning_modules.miners.hardest_triplet_miner import HardestTripletMiner
from lightning_modules.miners.semi_hard_triplet_miner import SemiHardTripletMiner
from lightning_modules.miners.triplet_masks import (
    count_valid_triplets,
    negative_pair_mask,
    positive_pair_mask,
)

__all__ = [
    "HardestTripletMiner",
    "SemiHardTripletMiner",
    "TripletMiner",
    "Triplets",
    "count_valid_triplets",
    "negative_pair_mask",
    "positive_pair_mask",
]
