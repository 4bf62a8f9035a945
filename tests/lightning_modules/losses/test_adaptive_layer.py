"""AdaptiveLayerLoss and Matryoshka2dLoss against a transcription of sentence-transformers' forward loop."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F
from sentence_transformers.base.losses.merged_forward import column_merging_disabled
from sentence_transformers.sentence_transformer import losses as st
from torch import Tensor, nn

from core.batch_formats import BatchFormat
from lightning_modules.encoders.hf_encoder import HFEncoder
from lightning_modules.losses.adaptive_layer import AdaptiveLayerLoss
from lightning_modules.losses.cached_multiple_negatives_ranking import CachedMultipleNegativesRankingLoss
from lightning_modules.losses.contrastive_tension_in_batch_negatives import ContrastiveTensionLossInBatchNegatives
from lightning_modules.losses.matryoshka_2d import Matryoshka2dLoss
from lightning_modules.losses.multiple_negatives_ranking import MultipleNegativesRankingLoss
from tests.lightning_modules.losses.text_batches import text_batch

N_LAYERS, N_COLUMNS, DIM = 4, 3, 16
DIMS = [16, 8, 4]

STInner = Callable[[list[Tensor], Tensor | None], Tensor]


class _Lookup(nn.Module):
    """Stands in for a SentenceTransformer: the 'embedding' feature is the sentence embedding."""

    def forward(self, features: dict[str, Tensor]) -> dict[str, Tensor]:
        return {"sentence_embedding": features["embedding"]}

    def get_embedding_dimension(self) -> int:
        return DIM


def st_adaptive_layer(
    layers: list[list[Tensor]],
    inner: STInner,
    n_layers_per_step: int,
    last_layer_weight: float,
    prior_layers_weight: float,
    kl_div_weight: float,
    kl_temperature: float,
) -> Tensor:
    """sentence-transformers' AdaptiveLayerLoss.forward (uniform layer weights) on given per-layer embeddings."""
    loss = inner(layers[-1], None) * last_layer_weight
    if kl_temperature > 0:
        final_embeddings = F.softmax(torch.concat(layers[-1], dim=0) / kl_temperature, dim=-1).detach()
    num_layers = len(layers)
    layer_indices = range(num_layers - 1)
    if n_layers_per_step > 0 and n_layers_per_step < num_layers - 1:
        layer_indices = random.sample(layer_indices, n_layers_per_step)
    for layer_idx in layer_indices:
        loss = loss + inner(layers[layer_idx], None) * 1.0 / len(layer_indices) * prior_layers_weight
        if kl_temperature > 0:
            embeddings = torch.concat(layers[layer_idx], dim=0)
            kl_div_loss = F.kl_div(
                F.log_softmax(embeddings / kl_temperature, dim=-1), final_embeddings, reduction="batchmean"
            )
            loss = loss + kl_div_loss * kl_temperature * kl_div_weight
    return loss


def _st_matryoshka(n_dims_per_step: int) -> STInner:
    model = _Lookup()
    loss = st.MatryoshkaLoss(model, st.MultipleNegativesRankingLoss(model), DIMS, n_dims_per_step=n_dims_per_step)

    def run(embeddings: list[Tensor], labels: Tensor | None) -> Tensor:
        with column_merging_disabled():
            return loss([{"embedding": e} for e in embeddings], labels)

    return run


def _layers() -> list[list[Tensor]]:
    g = torch.Generator().manual_seed(0)
    return [[torch.randn(5, DIM, generator=g, dtype=torch.float64) for _ in range(N_COLUMNS)] for _ in range(N_LAYERS)]


SETTINGS = [
    pytest.param(dict(n_layers_per_step=1), id="defaults"),
    pytest.param(dict(n_layers_per_step=-1, last_layer_weight=2.0, prior_layers_weight=0.5), id="all-layers"),
    pytest.param(dict(n_layers_per_step=2, kl_div_weight=3.0, kl_temperature=1.0), id="two-layers-kl"),
    pytest.param(dict(n_layers_per_step=-1, kl_temperature=0.0), id="no-kl"),
]
DEFAULTS = dict(
    n_layers_per_step=1, last_layer_weight=1.0, prior_layers_weight=1.0, kl_div_weight=1.0, kl_temperature=0.3
)


def _assert_parity(ours_loss, reference: Callable[[list[list[Tensor]]], Tensor], seed: int) -> None:
    layers = _layers()
    leaves = [[e.clone().requires_grad_() for e in layer] for layer in layers]
    random.seed(seed)
    ours = ours_loss.layer_loss(leaves, None).loss
    ref_leaves = [[e.clone().requires_grad_() for e in layer] for layer in layers]
    random.seed(seed)
    expected = reference(ref_leaves)
    torch.testing.assert_close(ours, expected, rtol=1e-5, atol=1e-8)
    flat, ref_flat = sum(leaves, []), sum(ref_leaves, [])
    grads = torch.autograd.grad(ours, flat, allow_unused=True)
    ref_grads = torch.autograd.grad(expected, ref_flat, allow_unused=True)
    for grad, ref_grad in zip(grads, ref_grads, strict=True):
        assert (grad is None) == (ref_grad is None)
        if grad is not None:
            torch.testing.assert_close(grad, ref_grad, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("settings", SETTINGS)
@pytest.mark.parametrize("seed", [0, 1])
def test_adaptive_layer_matches_sentence_transformers_math(settings, seed):
    kwargs = {**DEFAULTS, **settings}
    inner = st.MultipleNegativesRankingLoss(None).compute_loss_from_embeddings
    ours = AdaptiveLayerLoss(MultipleNegativesRankingLoss(), **kwargs)
    _assert_parity(ours, lambda layers: st_adaptive_layer(layers, inner, **kwargs), seed)


@pytest.mark.parametrize("settings", SETTINGS)
@pytest.mark.parametrize("n_dims_per_step", [1, -1])
def test_matryoshka_2d_matches_sentence_transformers_math(settings, n_dims_per_step):
    kwargs = {**DEFAULTS, **settings}
    ours = Matryoshka2dLoss(MultipleNegativesRankingLoss(), DIMS, n_dims_per_step=n_dims_per_step, **kwargs)
    inner = _st_matryoshka(n_dims_per_step)
    _assert_parity(ours, lambda layers: st_adaptive_layer(layers, inner, **kwargs), seed=2)


@pytest.mark.parametrize("loss_cls", [AdaptiveLayerLoss, lambda base: Matryoshka2dLoss(base, [32, 8])])
def test_training_loss_uses_every_layer_of_the_encoder(tiny_model_dir, loss_cls):
    encoder = HFEncoder(str(tiny_model_dir)).eval()  # deterministic, so two paths can be compared
    loss = loss_cls(MultipleNegativesRankingLoss())
    loss.bind_encoder(encoder)
    batch = text_batch(encoder, BatchFormat.PAIR, 4)
    random.seed(0)
    out = loss.training_loss(encoder, batch)
    per_column = [encoder.forward_all_layers(f) for f in batch.features]
    random.seed(0)
    expected = loss.layer_loss([list(layer) for layer in zip(*per_column, strict=True)], None)
    torch.testing.assert_close(out.loss, expected.loss)
    assert {"last_layer_loss", "prior_layers_loss", "kl_div"} <= out.stats.keys()
    out.loss.backward()
    assert encoder.transformer.encoder.layer[0].output.dense.weight.grad is not None


def test_formats_follow_the_base_loss():
    loss = AdaptiveLayerLoss(MultipleNegativesRankingLoss())
    assert loss.accepts == MultipleNegativesRankingLoss.accepts
    assert loss.sampling is MultipleNegativesRankingLoss.sampling


def test_rejects_a_second_encoder_at_training_time(tiny_model_dir):
    encoder = HFEncoder(str(tiny_model_dir))
    loss = AdaptiveLayerLoss(ContrastiveTensionLossInBatchNegatives())
    loss.bind_encoder(encoder)
    with pytest.raises(ValueError, match="trained encoder"):
        loss.training_loss(encoder, text_batch(encoder, BatchFormat.SINGLE, 3))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_layers_per_step": -2}, "n_layers_per_step"),
        ({"last_layer_weight": -1.0}, "last_layer_weight"),
        ({"kl_temperature": -0.1}, "kl_temperature"),
    ],
)
def test_invalid_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        AdaptiveLayerLoss(MultipleNegativesRankingLoss(), **kwargs)


def test_rejects_losses_that_run_their_own_forward_passes():
    with pytest.raises(ValueError, match="controls its own forward passes"):
        AdaptiveLayerLoss(CachedMultipleNegativesRankingLoss())
