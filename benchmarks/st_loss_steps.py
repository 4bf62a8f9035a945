"""One loss step (value + backward to the embeddings) of each embedding-level loss, ours or sentence-transformers'.

Shared by ``loss_kernels.py``: ``STEPS[loss](impl, batch_size, n_labels, device)`` returns a function that runs
one step on fixed random 384-d embeddings (``impl`` is ``"ours"`` or ``"st"``). sentence-transformers' losses
that embed their inputs themselves get the embeddings through a stand-in model; its cached losses run their own
loss computation (``calculate_loss(..., with_backward=True)``, chunked by their mini-batch size).
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from unittest import mock

import torch
from torch import Tensor

DIM = 384
MINI_BATCH = 32  # sentence-transformers' cached losses compute their loss in chunks of this many anchors
Step = Callable[[], None]


class _Model(SimpleNamespace):
    """What sentence-transformers' loss constructors read from a model; the forward pass is mocked."""

    def __init__(self, role: str) -> None:
        from tokenizers import Tokenizer
        from tokenizers.models import WordLevel
        from transformers import PreTrainedTokenizerFast

        tokenizer = PreTrainedTokenizerFast(tokenizer_object=Tokenizer(WordLevel({"[UNK]": 0}, unk_token="[UNK]")))
        super().__init__(role=role, tokenizer=tokenizer, max_seq_length=256, device="cpu")

    def __getitem__(self, index: int) -> object:
        return object()

    def get_embedding_dimension(self) -> int:
        return DIM


def _inputs(batch_size: int, n_columns: int, device: str) -> list[Tensor]:
    g = torch.Generator().manual_seed(0)
    return [torch.randn(batch_size, DIM, generator=g).to(device) for _ in range(n_columns)]


def _step(compute: Callable[[list[Tensor]], Tensor | None], inputs: list[Tensor], device: str) -> Step:
    """Run ``compute`` on fresh leaves and back-propagate (unless it did, returning ``None``)."""

    def step() -> None:
        loss = compute([x.clone().requires_grad_() for x in inputs])
        if loss is not None:
            loss.backward()
        if device == "cuda":
            torch.cuda.synchronize()

    return step


def _mocked(module: object, compute: Callable[[], Tensor]) -> Tensor:
    with mock.patch.object(module, "embed_columns", lambda model, features: [f[model.role] for f in features]):
        return compute()


def triplet_step(loss_name: str) -> Callable[[str, int, int, str], Step]:
    """The batch triplet losses on one labelled column of ``n_labels`` equal classes."""

    def build(impl: str, batch_size: int, n_labels: int, device: str) -> Step:
        g = torch.Generator().manual_seed(1)
        labels = (torch.arange(batch_size) % n_labels)[torch.randperm(batch_size, generator=g)].to(device)
        if impl == "ours":
            import lightning_modules.losses as ours

            loss = getattr(ours, loss_name)()
            return _step(lambda x: loss(x, labels).loss, _inputs(batch_size, 1, device), device)
        from sentence_transformers.sentence_transformer import losses as st

        reference = getattr(st, loss_name)(None)
        return _step(
            lambda x: reference.compute_loss_from_embeddings(x, labels), _inputs(batch_size, 1, device), device
        )

    return build


def _guided(batch_size: int, device: str) -> tuple[list[Tensor], Tensor]:
    student = _inputs(batch_size, 3, device)
    guide = torch.stack(
        [s + 0.5 * n for s, n in zip(student, _inputs(batch_size, 3, device)[::-1], strict=True)], dim=1
    )
    return student, guide


def gist_step(impl: str, batch_size: int, n_labels: int, device: str) -> Step:
    """GISTEmbedLoss on triplets with guide embeddings."""
    student, guide = _guided(batch_size, device)
    if impl == "ours":
        from lightning_modules.losses.gist_embed import GISTEmbedLoss

        loss = GISTEmbedLoss()
        return _step(lambda x: loss(x, guide).loss, student, device)
    from sentence_transformers.sentence_transformer import losses as st
    from sentence_transformers.sentence_transformer.losses import gist_embed

    reference = st.GISTEmbedLoss(_Model("student"), _Model("guide"))
    columns = guide.unbind(1)

    def compute(x: list[Tensor]) -> Tensor:
        features = [{"student": s, "guide": g} for s, g in zip(x, columns, strict=True)]
        return _mocked(gist_embed, lambda: reference(features, None))

    return _step(compute, student, device)


def cached_gist_step(impl: str, batch_size: int, n_labels: int, device: str) -> Step:
    """CachedGISTEmbedLoss's loss computation (the embedding passes are the encoder's, not timed here)."""
    if impl == "ours":
        return gist_step(impl, batch_size, n_labels, device)
    from sentence_transformers.sentence_transformer import losses as st

    student, guide = _guided(batch_size, device)
    reference = st.CachedGISTEmbedLoss(_Model("student"), _Model("guide"), mini_batch_size=MINI_BATCH)
    guided = [list(g.split(MINI_BATCH)) for g in guide.unbind(1)]

    def compute(x: list[Tensor]) -> None:
        reference.calculate_loss([list(c.split(MINI_BATCH)) for c in x], guided, with_backward=True)

    return _step(compute, student, device)


def cached_mnsrl_step(impl: str, batch_size: int, n_labels: int, device: str) -> Step:
    """CachedMultipleNegativesSymmetricRankingLoss's loss computation on pairs."""
    pairs = _inputs(batch_size, 2, device)
    if impl == "ours":
        from lightning_modules.losses.cached_multiple_negatives_symmetric_ranking import (
            CachedMultipleNegativesSymmetricRankingLoss,
        )

        loss = CachedMultipleNegativesSymmetricRankingLoss()
        return _step(lambda x: loss(x, None).loss, pairs, device)
    import warnings

    from sentence_transformers.sentence_transformer import losses as st

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        reference = st.CachedMultipleNegativesSymmetricRankingLoss(_Model("student"), mini_batch_size=MINI_BATCH)

    def compute(x: list[Tensor]) -> None:
        reference.calculate_loss([list(c.split(MINI_BATCH)) for c in x], with_backward=True)

    return _step(compute, pairs, device)


def distill_kl_div_step(impl: str, batch_size: int, n_labels: int, device: str) -> Step:
    """DistillKLDivLoss on (query, positive, negative) with teacher scores."""
    inputs = _inputs(batch_size, 3, device)
    scores = torch.randn(batch_size, 2, generator=torch.Generator().manual_seed(2)).to(device)
    if impl == "ours":
        from lightning_modules.losses.distill_kl_div import DistillKLDivLoss

        loss = DistillKLDivLoss()
        return _step(lambda x: loss(x, scores).loss, inputs, device)
    from sentence_transformers.sentence_transformer import losses as st

    reference = st.DistillKLDivLoss(None)
    return _step(lambda x: reference.compute_loss_from_embeddings(x, scores), inputs, device)


def embed_distill_step(impl: str, batch_size: int, n_labels: int, device: str) -> Step:
    """EmbedDistillLoss (cosine, no projection) on single sentences with teacher embeddings."""
    inputs = _inputs(batch_size, 1, device)
    teacher = _inputs(batch_size, 2, device)[1]
    if impl == "ours":
        from lightning_modules.losses.embed_distill import EmbedDistillLoss

        loss = EmbedDistillLoss()
        return _step(lambda x: loss(x, teacher).loss, inputs, device)
    from sentence_transformers.sentence_transformer import losses as st
    from sentence_transformers.sentence_transformer.losses import embed_distill

    reference = st.EmbedDistillLoss(_Model("student"))
    return _step(
        lambda x: _mocked(embed_distill, lambda: reference([{"student": s} for s in x], teacher)), inputs, device
    )


def gor_step(impl: str, batch_size: int, n_labels: int, device: str) -> Step:
    """GlobalOrthogonalRegularizationLoss on pairs (both columns regularised)."""
    pairs = _inputs(batch_size, 2, device)
    if impl == "ours":
        from lightning_modules.losses.global_orthogonal_regularization import GlobalOrthogonalRegularizationLoss

        loss = GlobalOrthogonalRegularizationLoss()
        return _step(lambda x: loss(x, None).loss, pairs, device)
    from sentence_transformers.sentence_transformer import losses as st

    reference = st.GlobalOrthogonalRegularizationLoss(None)
    return _step(lambda x: sum(reference.compute_loss_from_embeddings(x).values()), pairs, device)


TRIPLET_LOSSES = (
    "BatchAllTripletLoss",
    "BatchHardTripletLoss",
    "BatchSemiHardTripletLoss",
    "BatchHardSoftMarginTripletLoss",
)
STEPS: dict[str, Callable[[str, int, int, str], Step]] = {
    **{name: triplet_step(name) for name in TRIPLET_LOSSES},
    "GISTEmbedLoss": gist_step,
    "CachedGISTEmbedLoss": cached_gist_step,
    "CachedMultipleNegativesSymmetricRankingLoss": cached_mnsrl_step,
    "DistillKLDivLoss": distill_kl_div_step,
    "EmbedDistillLoss": embed_distill_step,
    "GlobalOrthogonalRegularizationLoss": gor_step,
}
