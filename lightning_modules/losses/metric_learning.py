"""MetricLearningLoss: any pytorch-metric-learning loss (and miner) trained as a losslab loss."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
from pytorch_metric_learning.losses import BaseMetricLossFunction
from pytorch_metric_learning.losses.mixins import WeightRegularizerMixin
from pytorch_metric_learning.miners import BaseMiner
from pytorch_metric_learning.utils import loss_and_miner_utils as lmu
from torch import Tensor

from core.batch_formats import BatchFormat, BatchSampling
from lightning_modules.distributed import all_gather_with_grad
from lightning_modules.losses.base import EmbeddingLoss, LossOutput, ParameterGroup, Statistics
from lightning_modules.losses.index_tuples import column_pairs
from lightning_modules.losses.input_checks import check_labels
from lightning_modules.losses.metric_learning_records import as_statistics, recorded_stats, sub_losses
from lightning_modules.losses.metric_learning_trial import TRIAL_DIM, TrialBatch

if TYPE_CHECKING:
    from lightning_modules.encoders.hf_encoder import HFEncoder

TUPLE_FORMATS = frozenset({BatchFormat.PAIR, BatchFormat.TRIPLET, BatchFormat.MULTI_NEGATIVE})


class MetricLearningLoss(EmbeddingLoss):
    """Any pytorch-metric-learning (PML) loss, with its distance, reducer and regularisers, plus an optional miner.

    The PML loss is called as PML documents it, ``loss(embeddings, labels, indices_tuple)``, on the
    batch's embeddings (float32, outside autocast):

    - **Labelled batches** ``(sentence, class id)``: ``loss(x, labels, miner(x, labels))``; without a miner
      PML uses every pair/triplet the labels define (or its class proxies/weights).
    - **Pair, triplet and multi-negative batches** (no labels): the columns are stacked into one matrix
      ``[anchors; positives; negatives_1; ...]`` and the pairs come from the batch structure
      (:func:`~lightning_modules.losses.index_tuples.column_pairs`): each anchor with its own positive is a
      positive pair; each anchor with every other document of the batch (other rows' positives, all
      negatives) is a negative pair, as in MultipleNegativesRankingLoss, or with its own negatives only
      when ``in_batch_negatives`` is off. PML's pair losses use these pairs, its triplet losses every
      triplet sharing an anchor. ``NTXentLoss(temperature=0.05)`` here is MNRL with ``scale=20``.

    Losses with parameters (ArcFace, CosFace, ProxyAnchor, SoftTriple, NormalizedSoftmax, ...) are
    submodules of this loss: they are saved in checkpoints, never exported with the encoder, and trained
    in their own optimizer group, with ``loss_lr`` as PML recommends (proxies learn at a far larger rate
    than a pretrained encoder).

    Before training, a tiny trial batch of the data's format at the encoder's size runs through copies
    of the loss and miner, so that a loss that needs labels on pair batches, a loss that refuses a
    miner's ``indices_tuple``, or an ``embedding_size`` other than the encoder's stops with one line.

    Args:
        loss: The PML loss, e.g. ``pytorch_metric_learning.losses.MultiSimilarityLoss``; losses with
            parameters need their ``num_classes`` and ``embedding_size`` (the encoder's dimension).
        miner: Optional PML miner (labelled batches only), e.g. ``BatchHardMiner``.
        loss_lr: Learning rate of the loss's own parameters (``None``: the optimizer's); the learning-rate
            schedule scales it like the encoder's.
        in_batch_negatives: On pair/triplet batches, pair each anchor with the other rows' documents too;
            off, triplet batches use their own negatives only.
        gather_across_devices: All-gather every column and the labels across ranks (with gradients)
            before mining, so each rank computes the single-process loss of the global batch. A no-op
            without a process group.

    Inputs:
        +---------------------------------------------+---------------------------------------------+
        | Batch format                                | Labels                                      |
        +=============================================+=============================================+
        | labeled (sentence)                          | class id (``< num_classes`` where declared) |
        +---------------------------------------------+---------------------------------------------+
        | pair / triplet / multi_negative (no miner)  | none: pairs from the batch structure        |
        +---------------------------------------------+---------------------------------------------+

    Requirements:
        Labelled batches are P×K (every class twice) unless the loss has class proxies/weights (PML's
        ``WeightRegularizerMixin``) and no miner: those train on random batches. Pair/triplet batches
        are drawn without duplicate texts (a duplicate would be an in-batch negative of itself).

    Statistics:
        ``positive_pair_<distance|similarity>`` and ``negative_pair_...`` (means over the label or
        structure pairs, in the loss's own distance), each sub-loss of a loss with several
        (``pos_loss``, ``neg_loss``, ``weight_reg_loss``, ...), ``miner.num_triplets`` or
        ``miner.num_pos_pairs``/``miner.num_neg_pairs``, and every record PML collects with
        ``collect_stats: true`` (``avg_angle``, ``miner.hardest_triplet``, ...).

    References:
        Musgrave et al., PyTorch Metric Learning, https://arxiv.org/abs/2008.09164

    Example:
        ``loss: {class_path: lightning_modules.losses.metric_learning.MetricLearningLoss, init_args: {loss:
        {class_path: pytorch_metric_learning.losses.MultiSimilarityLoss, init_args: {alpha: 2.0}}}}``
    """

    def __init__(
        self,
        loss: BaseMetricLossFunction,
        miner: BaseMiner | None = None,
        loss_lr: float | None = None,
        in_batch_negatives: bool = True,
        gather_across_devices: bool = False,
    ) -> None:
        super().__init__()
        if not isinstance(loss, BaseMetricLossFunction):
            raise ValueError(f"MetricLearningLoss: loss must be a PML loss function, got {type(loss).__name__}")
        if miner is not None and not isinstance(miner, BaseMiner):
            raise ValueError(f"MetricLearningLoss: miner must be a PML BaseMiner, got {type(miner).__name__}")
        self.loss = loss
        self.miner = miner
        self.description = f"MetricLearningLoss({type(loss).__name__}" + (
            f", miner={type(miner).__name__})" if miner is not None else ")"
        )
        if loss_lr is not None and not loss_lr > 0:
            raise ValueError(f"{self.description}: loss_lr must be > 0, got {loss_lr}")
        if loss_lr is not None and not self._has_parameters:
            raise ValueError(f"{self.description}: loss_lr is set, but {type(loss).__name__} has no parameters")
        self.loss_lr = loss_lr
        self.in_batch_negatives = in_batch_negatives
        self.gather_across_devices = gather_across_devices
        self._batch_format: BatchFormat | None = None
        self._embedding_dim: int | None = None

    @property
    def _has_parameters(self) -> bool:
        return any(True for _ in self.loss.parameters())

    @property
    def accepts(self) -> frozenset[BatchFormat]:  # type: ignore[override]
        """Labelled batches; without a miner also pair/triplet batches (pairs only with in-batch negatives)."""
        if self.miner is not None:
            return frozenset({BatchFormat.LABELED})
        if not self.in_batch_negatives:
            return frozenset({BatchFormat.LABELED, BatchFormat.TRIPLET, BatchFormat.MULTI_NEGATIVE})
        return frozenset({BatchFormat.LABELED}) | TUPLE_FORMATS

    @property
    def sampling(self) -> BatchSampling:  # type: ignore[override]
        """What the batches need, for the format last passed to :meth:`check_format` (default: labelled)."""
        if self._batch_format in TUPLE_FORMATS:
            return BatchSampling.NO_DUPLICATES if self.in_batch_negatives else BatchSampling.RANDOM
        # Class proxies/weights (WeightRegularizerMixin: ArcFace, ProxyAnchor, SoftTriple, ...) need no
        # positive in the batch; pair/triplet losses and every miner compare examples within it.
        if self.miner is None and isinstance(self.loss, WeightRegularizerMixin):
            return BatchSampling.RANDOM
        return BatchSampling.PK

    def check_format(self, batch_format: BatchFormat) -> None:
        """Refuse a format this loss/miner cannot train on, then try it on a trial batch (see the class doc)."""
        if batch_format not in self.accepts:
            accepted = ", ".join(sorted(f.describe() for f in self.accepts))
            why = ""
            if self.miner is not None:
                why = f" (its miner {type(self.miner).__name__} mines with class labels)"
            elif batch_format is BatchFormat.PAIR:
                why = " (pairs have no negatives of their own: set in_batch_negatives)"
            raise ValueError(
                f"{self.description} cannot train on {batch_format.describe()} batches{why}; it accepts: {accepted}."
            )
        self._batch_format = batch_format
        self._try_when_possible()

    def bind_encoder(self, encoder: HFEncoder) -> None:
        """Note the encoder's embedding size and try the loss at that size (see the class doc)."""
        self._embedding_dim = int(encoder.embedding_dim)
        self._try_when_possible()

    def parameter_groups(self) -> list[ParameterGroup]:
        """The loss's parameters (class proxies/weights) in one group, with ``loss_lr`` when set."""
        groups = super().parameter_groups()
        if self.loss_lr is not None:
            for group in groups:
                group["lr"] = self.loss_lr
        return groups

    def _try_when_possible(self) -> None:
        # A loss with parameters fits one embedding size only: it is tried once the encoder tells it.
        dim = self._embedding_dim or (None if self._has_parameters else TRIAL_DIM)
        if dim is not None:
            trial = TrialBatch(
                self._batch_format or BatchFormat.LABELED, dim, self._num_classes, self.in_batch_negatives
            )
            trial.run(self.description, self.loss, self.miner)

    def forward(self, embeddings: Sequence[Tensor], labels: Tensor | None) -> LossOutput:
        """The PML loss on the (gathered) batch, with mined or structural index tuples (see the class doc)."""
        columns = list(embeddings)
        if not columns:
            raise ValueError(f"{self.description} expects at least one embedding column, got none.")
        if len(columns) == 1:
            labels = check_labels(self.description, labels, columns[0].shape[0]).long()
        elif labels is not None:
            raise ValueError(
                f"{self.description} takes no labels with {len(columns)} embedding columns (their pairs come "
                f"from the columns), got labels of shape {tuple(labels.shape)}."
            )
        if self.gather_across_devices:
            columns = [all_gather_with_grad(column) for column in columns]
            labels = None if labels is None else all_gather_with_grad(labels)
        x = columns[0] if len(columns) == 1 else torch.cat(columns)
        with torch.autocast(device_type=x.device.type, enabled=False):
            if x.dtype in (torch.float16, torch.bfloat16):
                x = x.float()
            if labels is not None:
                self._check_classes(labels)
                indices = self.miner(x, labels) if self.miner is not None else None
            else:
                indices = column_pairs(len(columns), columns[0].shape[0], self.in_batch_negatives, x.device)
            with sub_losses(self.loss) as components:
                value = self.loss(x, labels, indices)
        # PML overwrites its records on the next call: read them now, turn them into tensors when logged.
        mined = indices if self.miner is not None else None
        records = {**recorded_stats(self.loss), **recorded_stats(self.miner, "miner.", mined), **components}
        detached = x.detach()

        def statistics() -> Statistics:
            pairs = lmu.get_all_pairs_indices(labels) if labels is not None else indices
            return {**self._pair_statistics(detached, pairs), **as_statistics(records)}

        return LossOutput(value, statistics)

    @property
    def _num_classes(self) -> int | None:
        # Most PML class-proxy losses keep num_classes; some only record it as 0 (NormalizedSoftmax).
        num_classes = getattr(self.loss, "num_classes", None)
        return num_classes if isinstance(num_classes, int) and num_classes > 0 else None

    def _check_classes(self, labels: Tensor) -> None:
        num_classes = self._num_classes
        # One comparison, one device sync.
        if num_classes is not None and bool(((labels < 0) | (labels >= num_classes)).any()):
            raise ValueError(
                f"{self.description}: class ids must lie in [0, num_classes={num_classes}), got "
                f"{int(labels.min())}..{int(labels.max())}; set num_classes to the data's number of classes."
            )

    def _pair_statistics(self, x: Tensor, pairs: tuple[Tensor, ...]) -> Statistics:
        """Mean positive and negative pair distance (or similarity) in the loss's own distance."""
        distance = self.loss.distance
        kind = "similarity" if distance.is_inverted else "distance"
        with torch.no_grad():
            matrix = distance(x)
        a1, p, a2, n = pairs
        stats: Statistics = {}
        for name, rows, cols in (("positive", a1, p), ("negative", a2, n)):
            if rows.numel():
                stats[f"{name}_pair_{kind}"] = matrix[rows, cols].mean().float()
        return stats

    def extra_repr(self) -> str:
        """Constructor arguments shown by ``repr`` (the PML modules print themselves)."""
        return (
            f"loss_lr={self.loss_lr}, in_batch_negatives={self.in_batch_negatives}, "
            f"gather_across_devices={self.gather_across_devices}"
        )
