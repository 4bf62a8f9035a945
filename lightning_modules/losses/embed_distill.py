"""EmbedDistillLoss: match the student's embeddings to precomputed teacher embeddings (ST 6.2)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from core.batch_formats import BatchFormat, BatchSampling
from lightning_modules.losses.base import EmbeddingLoss, LossOutput

if TYPE_CHECKING:
    from lightning_modules.encoders.hf_encoder import HFEncoder

EmbedDistance = Literal["mse", "l2", "cosine"]


class EmbedDistillLoss(EmbeddingLoss):
    r"""Embedding distillation: each column's student embedding is pulled onto its teacher embedding.

    .. math::
        \mathcal{L} = \frac{1}{C}\sum_{c=1}^{C} \mathrm{dist}\big(P(s_c), t_c\big)

    with ``dist`` the mean over rows of ``1 - cos`` (``cosine``), of the Euclidean distance (``l2``, the
    EmbedDistill paper's) or the mean squared error over rows and dimensions (``mse``), and :math:`P` an
    optional learned linear projection into the teacher's space (for a teacher of another size). Same math
    as sentence-transformers 6.2: one teacher embedding per row (``(B, D)``) is the target of every column,
    ``(B, C, D)`` labels give each column its own.

    The projection is an ordinary parameter of the loss: the optimizer trains it with the encoder, it is
    saved in the Lightning checkpoints (``loss.projection.*``) and, like sentence-transformers' (which
    needs ``save_projection``), it is not part of the exported encoder. It is created when the module binds
    the encoder (its input size is the encoder's).

    Args:
        distance_metric: ``cosine`` (default), ``l2`` or ``mse``.
        projection_dim: Output size of a learned ``Linear(encoder_dim, projection_dim)`` applied to the
            student's embeddings first (the teacher's size); ``None`` (default) compares them directly.

    Inputs:
        +---------------------------------------------------+-------------------------------------------+
        | Texts                                             | Labels                                    |
        +===================================================+===========================================+
        | distillation (sentence)                           | ``(B, D)`` teacher embeddings             |
        |                                                   | (``distill: embeddings``)                 |
        +---------------------------------------------------+-------------------------------------------+
        | guided (anchor, positive[, negative ...])         | ``(B, C, D)`` teacher embedding of each   |
        |                                                   | column (``distill: guide``)               |
        +---------------------------------------------------+-------------------------------------------+

    Relations:
        :class:`~lightning_modules.losses.mse.MSELoss` is ``distance_metric="mse"`` without a projection;
        :class:`~lightning_modules.losses.distill_kl_div.DistillKLDivLoss` and
        :class:`~lightning_modules.losses.margin_mse.MarginMSELoss` distil scores instead of embeddings.

    Statistics:
        ``cosine_to_teacher`` (mean cosine similarity of the (projected) student and teacher embeddings).

    References:
        Kim et al. 2023, EmbedDistill: A Geometric Knowledge Distillation for Information Retrieval
        (https://arxiv.org/abs/2301.12005).

    Example:
        ``loss: {class_path: lightning_modules.losses.embed_distill.EmbedDistillLoss, init_args:
        {distance_metric: cosine, projection_dim: 1024}}``
    """

    accepts: ClassVar[frozenset[BatchFormat]] = frozenset({BatchFormat.DISTILLATION, BatchFormat.GUIDED})
    sampling: ClassVar[BatchSampling] = BatchSampling.RANDOM

    def __init__(self, distance_metric: EmbedDistance = "cosine", projection_dim: int | None = None) -> None:
        super().__init__()
        if distance_metric not in ("mse", "l2", "cosine"):
            raise ValueError(f"distance_metric must be one of 'mse', 'l2', 'cosine', but got {distance_metric!r}.")
        if projection_dim is not None and projection_dim < 1:
            raise ValueError(f"projection_dim must be a positive integer or None, got {projection_dim}")
        self.distance_metric = distance_metric
        self.projection_dim = projection_dim
        self.projection: nn.Linear | None = None

    def bind_encoder(self, encoder: HFEncoder) -> None:
        """Create the projection from the encoder's embedding size (once; a rebind must match it)."""
        if self.projection_dim is None:
            return
        if self.projection is None:
            self.projection = nn.Linear(encoder.embedding_dim, self.projection_dim)
        elif self.projection.in_features != encoder.embedding_dim:
            raise ValueError(
                f"EmbedDistillLoss's projection takes {self.projection.in_features}-dim embeddings, "
                f"but the encoder outputs {encoder.embedding_dim}"
            )

    def forward(self, embeddings: Sequence[Tensor], labels: Tensor | None) -> LossOutput:
        """Mean over columns of the distance between (projected) student and teacher embeddings.

        Args:
            embeddings: One ``(B, D)`` tensor per text column.
            labels: ``(B, D_teacher)`` (broadcast to every column) or ``(B, C, D_teacher)`` teacher embeddings.

        Returns:
            The loss and the cosine similarity to the teacher.
        """
        if labels is None:
            raise ValueError(
                "EmbedDistillLoss requires precomputed teacher embeddings as labels: set the data option "
                "distill (embeddings or guide) and a teacher"
            )
        if self.projection_dim is not None and self.projection is None:
            raise ValueError("EmbedDistillLoss(projection_dim=...) must be bound to the encoder (bind_encoder) first")
        labels = labels.detach()
        if labels.dim() == 2:
            teachers = [labels] * len(embeddings)
        elif labels.dim() == 3:
            if labels.shape[1] != len(embeddings):
                raise ValueError(
                    f"Number of label columns ({labels.shape[1]}) does not match number of input text columns "
                    f"({len(embeddings)}). Either pass 3D labels with shape (batch_size, {len(embeddings)}, "
                    "teacher_dim), or 2D labels of shape (batch_size, teacher_dim) to broadcast a single label "
                    "across all columns."
                )
            teachers = list(labels.unbind(1))
        else:
            raise ValueError(
                "Expected labels to be 2D (batch_size, teacher_dim) or 3D (batch_size, num_columns, teacher_dim); "
                f"got {labels.dim()}D."
            )
        students = [e if self.projection is None else self.projection(e) for e in embeddings]
        for student, teacher in zip(students, teachers, strict=True):
            if student.shape != teacher.shape:
                hint = "" if self.projection is not None else "; set projection_dim to the teacher's size"
                raise ValueError(
                    f"EmbedDistillLoss: student embeddings {tuple(student.shape)} and teacher embeddings "
                    f"{tuple(teacher.shape)} differ in shape{hint}"
                )
        teachers = [t.to(s.dtype) for s, t in zip(students, teachers, strict=True)]
        losses = torch.stack([self._distance(s, t) for s, t in zip(students, teachers, strict=True)])
        detached = [s.detach() for s in students]

        def statistics() -> dict[str, Tensor]:  # on logging steps only: a second pass over the batch
            cosine = torch.cat([F.cosine_similarity(s, t) for s, t in zip(detached, teachers, strict=True)])
            return {"cosine_to_teacher": cosine.mean()}

        return LossOutput(losses.mean(), statistics)

    def _distance(self, student: Tensor, teacher: Tensor) -> Tensor:
        if self.distance_metric == "mse":
            return F.mse_loss(student, teacher)
        if self.distance_metric == "l2":
            return torch.norm(student - teacher, dim=-1).mean()
        return (1 - F.cosine_similarity(student, teacher, dim=-1)).mean()
