"""AnglE: CoSENT on the angle difference of the pair embeddings in complex space."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from lightning_modules.losses.cosent import CoSENTLoss


def pairwise_angle_similarity(first: Tensor, second: Tensor) -> Tensor:
    """``|cos(x, y) + sin(x, y)|`` after L2 normalisation, pairing dimension ``i`` with ``i + D/2``.

    Odd dimensions are zero-padded, as sentence-transformers' ``pairwise_angle_sim`` does.
    """
    if first.shape[1] % 2:
        first, second = F.pad(first, (0, 1)), F.pad(second, (0, 1))
    first, second = F.normalize(first, p=2, dim=1), F.normalize(second, p=2, dim=1)
    cosines = (first * second).sum(1)
    first_re, first_im = torch.chunk(first, 2, dim=1)
    second_re, second_im = torch.chunk(second, 2, dim=1)
    sines = (first_im * second_re - first_re * second_im).sum(1)
    return (cosines + sines).abs()


class AnglELoss(CoSENTLoss):
    """AnglE loss: :class:`~lightning_modules.losses.cosent.CoSENTLoss` with the angle similarity.

    Each embedding is read as a complex vector (first half real, second half imaginary); the pair
    score is the normalised angle similarity ``s = |cos(x, y) + sin(x, y)|``, which avoids the
    saturation zones of the cosine. The ranking loss is CoSENT's::

        loss = log(1 + sum_{label(i,j) > label(k,l)} exp(scale * (s(k,l) - s(i,j))))

    The math is that of sentence-transformers' ``AnglELoss`` on pairs.

    Args:
        scale: Inverse temperature multiplying the similarities (> 0).

    Inputs:
        +------------------------------------+-----------------------+
        | Batch format                       | Labels                |
        +====================================+=======================+
        | scored_pair (sentence1, sentence2) | float similarity score|
        +------------------------------------+-----------------------+
        | binary_pair (sentence1, sentence2) | 0/1                   |
        +------------------------------------+-----------------------+

    Statistics:
        ``spearman`` (angle similarities vs labels), ``mean_score`` (mean angle similarity).

    References:
        - Li and Li, AnglE-optimized Text Embeddings, https://arxiv.org/abs/2309.12871
    """

    def __init__(self, scale: float = 20.0) -> None:
        super().__init__(scale=scale)

    def pair_scores(self, first: Tensor, second: Tensor) -> Tensor:
        """Angle similarity of each row pair."""
        return pairwise_angle_similarity(first, second)

    def extra_repr(self) -> str:
        """Constructor arguments shown by ``repr``."""
        return f"scale={self.scale}"
