"""DistillKLDivLoss: match the student's candidate distribution to the teacher's (sentence-transformers 6.2)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import ClassVar, Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from core.batch_formats import BatchFormat, BatchSampling
from lightning_modules.distances import get_distance
from lightning_modules.losses.base import EmbeddingLoss, LossOutput

PairSimilarity = Literal["dot", "cosine_similarity"]


class DistillKLDivLoss(EmbeddingLoss):
    r"""KL divergence between the teacher's and the student's softmax over each query's candidates.

    For query :math:`q` with candidates :math:`c_1 \dots c_n` (positive first), teacher scores :math:`t_j`
    (the labels) and student similarities :math:`s_j = \mathrm{sim}(q, c_j)`:

    .. math::
        \mathcal{L} = \tau_s^2 \cdot \frac{1}{B}\sum_{\text{rows}}
            \mathrm{KL}\big(\mathrm{softmax}(t / \tau_t) \,\|\, \mathrm{softmax}(s / \tau_s)\big)

    The :math:`\tau_s^2` factor keeps gradient magnitudes comparable across temperatures (Hinton et al.);
    same math as sentence-transformers 6.2, including its one-time check of the teacher targets (NaN
    scores are refused; candidates whose teacher probability underflows to 0 are warned about).

    Args:
        similarity_fct: The student's pair similarity: ``dot`` (default, as sentence-transformers) or
            ``cosine_similarity``.
        temperature: Temperature of both softmaxes (1.0 leaves the scores unscaled).
        student_temperature: Student-side override of ``temperature`` (``None``: ``temperature``).
        teacher_temperature: Teacher-side override of ``temperature`` (``None``: ``temperature``); match it
            to the spread of the teacher's scores.

    Inputs:
        +----------------------------------------------------+------------------------------------------+
        | Texts                                              | Labels                                   |
        +====================================================+==========================================+
        | teacher_scored (query, positive, negative_1, ...)  | ``(B, n)`` teacher score of each         |
        |                                                    | candidate (``distill: scores``)          |
        +----------------------------------------------------+------------------------------------------+

    Requirements:
        At least two candidates per query (a softmax over one candidate is constant).

    Relations:
        :class:`~lightning_modules.losses.margin_mse.MarginMSELoss` distils score margins by MSE instead.

    Statistics:
        ``teacher_agreement`` (fraction of queries whose top candidate is the teacher's),
        ``student_positive_probability`` and ``teacher_positive_probability`` (mean softmax mass on the
        first candidate).

    References:
        Lin et al. 2020, Distilling Dense Representations for Ranking using Tightly-Coupled Teachers
        (https://arxiv.org/abs/2010.11386).

    Example:
        ``loss: {class_path: lightning_modules.losses.distill_kl_div.DistillKLDivLoss, init_args:
        {temperature: 1.0}}`` with ``data: {init_args: {distill: scores, teacher: ...}}``
    """

    accepts: ClassVar[frozenset[BatchFormat]] = frozenset({BatchFormat.TEACHER_SCORED})
    sampling: ClassVar[BatchSampling] = BatchSampling.RANDOM

    def __init__(
        self,
        similarity_fct: PairSimilarity = "dot",
        temperature: float = 1.0,
        student_temperature: float | None = None,
        teacher_temperature: float | None = None,
    ) -> None:
        super().__init__()
        if similarity_fct not in ("dot", "cosine_similarity"):
            raise ValueError(f"similarity_fct must be 'dot' or 'cosine_similarity', got {similarity_fct!r}")
        self.similarity_fct = similarity_fct
        self.temperature = temperature
        self.student_temperature = temperature if student_temperature is None else student_temperature
        self.teacher_temperature = temperature if teacher_temperature is None else teacher_temperature
        for label in ("temperature", "student_temperature", "teacher_temperature"):
            value = getattr(self, label)
            if not 0 < value < math.inf:
                raise ValueError(f"{label} must be a positive finite number, got {value}.")
        self._similarity = get_distance(similarity_fct)
        self._checked_teacher_scale = False

    def forward(self, embeddings: Sequence[Tensor], labels: Tensor | None) -> LossOutput:
        """KL divergence of the student's candidate distribution from the teacher's.

        Args:
            embeddings: ``[queries, positives, negatives_1, ...]``, each ``(B, D)``.
            labels: ``(B, n)`` teacher scores of the ``n = len(embeddings) - 1`` candidates.

        Returns:
            The loss and agreement statistics.
        """
        name = type(self).__name__
        if len(embeddings) < 3:
            raise ValueError(
                f"{name} expects at least 3 columns (query, positive, negative_1, ...), but got {len(embeddings)}. "
                "A softmax over one candidate is constant, so the loss and its gradient would be identically "
                "zero. Add at least a second candidate column."
            )
        query = embeddings[0]
        n_ways = len(embeddings) - 1
        if labels is None or labels.shape != (query.shape[0], n_ways):
            shape = None if labels is None else tuple(labels.shape)
            raise ValueError(
                f"{name} expects teacher scores of shape (batch_size, N) = ({query.shape[0]}, {n_ways}) for N "
                f"candidate columns, but got {shape}."
            )
        student = torch.stack([self._similarity.paired(query, c) for c in embeddings[1:]], dim=1)
        student_log_probs = torch.log_softmax(student / self.student_temperature, dim=1)
        teacher = labels.detach().to(student.dtype)
        teacher_probs = torch.softmax(teacher / self.teacher_temperature, dim=1)
        if not self._checked_teacher_scale:
            self._checked_teacher_scale = True
            self._check_teacher_targets(teacher_probs, teacher)
        loss = F.kl_div(student_log_probs, teacher_probs, reduction="batchmean") * self.student_temperature**2
        return LossOutput(loss, lambda: self._stats(student_log_probs.detach(), teacher_probs))

    def _check_teacher_targets(self, teacher_probs: Tensor, scores: Tensor) -> None:
        """sentence-transformers' first-batch check: refuse NaN scores, warn about underflowing targets."""
        name = type(self).__name__
        if scores.isnan().any():
            raise ValueError(
                f"{name}: the teacher scores contain NaN, so the loss and every gradient would be NaN after the "
                "first backward. Check the column holding your teacher scores."
            )
        if scores.isinf().any():  # an infinite score marks a candidate excluded on purpose
            return
        collapsed = int((teacher_probs == 0).sum())
        if collapsed:
            spread = float((scores.max(dim=-1).values - scores.min(dim=-1).values).max())
            warnings.warn(
                f"{name}: teacher_temperature={self.teacher_temperature} underflows {collapsed} of "
                f"{teacher_probs.numel()} teacher scores to exactly zero, so those candidates carry no gradient. "
                f"The widest candidate row spans {spread:.1f}; raise teacher_temperature above {spread / 100:.3g}.",
                stacklevel=3,
            )

    @staticmethod
    def _stats(student_log_probs: Tensor, teacher_probs: Tensor) -> dict[str, Tensor]:
        return {
            "teacher_agreement": (student_log_probs.argmax(1) == teacher_probs.argmax(1)).float().mean(),
            "student_positive_probability": student_log_probs[:, 0].exp().mean(),
            "teacher_positive_probability": teacher_probs[:, 0].mean(),
        }
