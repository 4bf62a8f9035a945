"""MatryoshkaLoss against sentence-transformers 6.2's MatryoshkaLoss (which patches the model's forward)."""

from __future__ import annotations

import random

import pytest
import torch
from sentence_transformers.base.losses.merged_forward import column_merging_disabled
from sentence_transformers.sentence_transformer import losses as st
from torch import Tensor, nn

from core.batch_formats import BatchFormat
from lightning_modules.encoders.hf_encoder import HFEncoder
from lightning_modules.losses.cached_multiple_negatives_ranking import CachedMultipleNegativesRankingLoss
from lightning_modules.losses.cosent import CoSENTLoss
from lightning_modules.losses.matryoshka import MatryoshkaLoss
from lightning_modules.losses.mse import MSELoss
from lightning_modules.losses.multiple_negatives_ranking import MultipleNegativesRankingLoss

DIM = 16
DIMS = [4, 16, 8, 2]  # unsorted on purpose
WEIGHTS = [1.0, 2.0, 0.5, 3.0]


class _Lookup(nn.Module):
    """Stands in for a SentenceTransformer: the 'embedding' feature is the sentence embedding."""

    def forward(self, features: dict[str, Tensor]) -> dict[str, Tensor]:
        return {"sentence_embedding": features["embedding"]}

    def get_embedding_dimension(self) -> int:
        return DIM


CASES = {
    "mnrl": (MultipleNegativesRankingLoss, st.MultipleNegativesRankingLoss, 3, None),
    "cosent": (CoSENTLoss, st.CoSENTLoss, 2, "score"),
    "mse": (MSELoss, st.MSELoss, 1, "embedding"),
}


def _inputs(n_columns: int, label_kind: str | None) -> tuple[list[Tensor], Tensor | None]:
    g = torch.Generator().manual_seed(0)
    embeddings = [torch.randn(6, DIM, generator=g, dtype=torch.float64) for _ in range(n_columns)]
    labels = {
        None: None,
        "score": torch.rand(6, generator=g, dtype=torch.float64),
        "embedding": torch.randn(6, DIM, generator=g, dtype=torch.float64),
    }[label_kind]
    return embeddings, labels


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("n_dims_per_step", [-1, 2])
def test_parity_with_sentence_transformers(case, n_dims_per_step):
    ours_cls, st_cls, n_columns, label_kind = CASES[case]
    embeddings, labels = _inputs(n_columns, label_kind)
    model = _Lookup()
    reference_loss = st.MatryoshkaLoss(model, st_cls(model), DIMS, WEIGHTS, n_dims_per_step=n_dims_per_step)
    ours_loss = MatryoshkaLoss(ours_cls(), DIMS, WEIGHTS, n_dims_per_step=n_dims_per_step)

    leaves = [e.clone().requires_grad_() for e in embeddings]
    random.seed(3)  # both sample the dimensions with random.sample
    ours = ours_loss(leaves, labels).loss
    ours_grads = torch.autograd.grad(ours, leaves)

    ref_leaves = [e.clone().requires_grad_() for e in embeddings]
    random.seed(3)
    with column_merging_disabled():
        reference = reference_loss([{"embedding": e} for e in ref_leaves], labels)
    ref_grads = torch.autograd.grad(reference, ref_leaves)

    torch.testing.assert_close(ours, reference, rtol=1e-5, atol=1e-8)
    for grad, expected in zip(ours_grads, ref_grads, strict=True):
        torch.testing.assert_close(grad, expected, rtol=1e-5, atol=1e-8)


def test_sampling_trains_the_requested_number_of_dimensions():
    loss = MatryoshkaLoss(MultipleNegativesRankingLoss(), DIMS, n_dims_per_step=2)
    embeddings, _ = _inputs(2, None)
    random.seed(0)
    seen = set()
    for _ in range(30):
        dims = {k for k in loss(embeddings, None).stats if k.endswith("/loss")}
        assert len(dims) == 2
        seen |= dims
    assert seen == {f"dim_{d}/loss" for d in DIMS}


def test_stats_per_dimension_and_value_is_their_weighted_sum():
    embeddings, _ = _inputs(2, None)
    out = MatryoshkaLoss(MultipleNegativesRankingLoss(), DIMS, WEIGHTS)(embeddings, None)
    weighted = sum(w * out.stats[f"dim_{d}/loss"] for d, w in zip(DIMS, WEIGHTS, strict=True))
    torch.testing.assert_close(out.loss, weighted)
    assert {f"dim_{d}/accuracy" for d in DIMS} <= out.stats.keys()


def test_formats_and_sampling_are_the_base_loss():
    base = MultipleNegativesRankingLoss()
    loss = MatryoshkaLoss(base, DIMS)
    assert loss.accepts == base.accepts and loss.sampling is base.sampling
    with pytest.raises(ValueError, match="cannot train on"):
        loss.check_format(BatchFormat.LABELED)


def test_bind_encoder_checks_dimensions(tiny_model_dir):
    encoder = HFEncoder(str(tiny_model_dir))
    MatryoshkaLoss(MultipleNegativesRankingLoss(), [encoder.embedding_dim, 8]).bind_encoder(encoder)
    with pytest.raises(ValueError, match="exceed"):
        MatryoshkaLoss(MultipleNegativesRankingLoss(), [encoder.embedding_dim * 2]).bind_encoder(encoder)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"matryoshka_dims": []}, "at least one"),
        ({"matryoshka_dims": [8, 0]}, "> 0"),
        ({"matryoshka_dims": [8, 4], "matryoshka_weights": [1.0]}, "one weight per dimension"),
        ({"matryoshka_dims": [8], "n_dims_per_step": 0}, "n_dims_per_step"),
    ],
)
def test_invalid_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MatryoshkaLoss(MultipleNegativesRankingLoss(), **kwargs)


def test_rejects_losses_that_run_their_own_forward_passes():
    with pytest.raises(ValueError, match="controls its own forward passes"):
        MatryoshkaLoss(CachedMultipleNegativesRankingLoss(), [8])


def test_too_large_dimension_raises_at_forward():
    with pytest.raises(ValueError, match="exceeds the embedding dimension"):
        MatryoshkaLoss(MultipleNegativesRankingLoss(), [DIM * 2])(_inputs(2, None)[0], None)
