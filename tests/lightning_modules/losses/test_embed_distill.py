"""EmbedDistillLoss: parity with sentence-transformers 6.2 (every metric, projection, label shape)."""

from __future__ import annotations

import pytest
import torch
from sentence_transformers.sentence_transformer import losses as st
from sentence_transformers.sentence_transformer.losses import embed_distill as st_embed_distill
from torch import nn

from core.batch_formats import BatchFormat
from lightning_modules.encoders.hf_encoder import HFEncoder
from lightning_modules.losses.embed_distill import EmbedDistillLoss
from tests.lightning_modules.losses.st_reference import (
    FakeSentenceTransformer,
    assert_parity,
    embeddings,
    given_embeddings,
)

DIM, TEACHER_DIM = 8, 5


def _bound(loss: EmbedDistillLoss) -> EmbedDistillLoss:
    """Bind a stand-in encoder of size DIM (creates the projection); float64 like the inputs."""
    torch.manual_seed(0)
    loss.bind_encoder(type("Encoder", (), {"embedding_dim": DIM})())
    return loss.double()


@pytest.mark.parametrize("metric", ["cosine", "l2", "mse"])
@pytest.mark.parametrize(
    ("n_columns", "label_shape"),
    [(1, "2d"), (3, "2d"), (2, "3d"), (3, "3d")],
    ids=["single", "broadcast", "pair-per-column", "triplet-per-column"],
)
@pytest.mark.parametrize("projection", [False, True])
def test_parity_with_sentence_transformers(metric, n_columns, label_shape, projection):
    teacher_dim = TEACHER_DIM if projection else DIM
    ours = _bound(EmbedDistillLoss(metric, projection_dim=teacher_dim if projection else None))
    reference = st.EmbedDistillLoss(
        FakeSentenceTransformer("student", DIM), metric, projection_dim=teacher_dim if projection else None
    ).double()
    if projection:
        reference.projection.load_state_dict(ours.projection.state_dict())
    g = torch.Generator().manual_seed(3)
    shape = (10, teacher_dim) if label_shape == "2d" else (10, n_columns, teacher_dim)
    labels = torch.randn(shape, generator=g, dtype=torch.float64)

    def st_loss(e):
        with given_embeddings(st_embed_distill):
            return reference([{"student": x} for x in e], labels)

    assert_parity(lambda e: ours(e, labels).loss, st_loss, embeddings(n_columns))
    if projection:  # the projection's own gradient too: it is trained with the encoder
        for module in (ours, reference):
            module.zero_grad()
        ours(embeddings(n_columns), labels).loss.backward()
        st_loss(embeddings(n_columns)).backward()
        torch.testing.assert_close(ours.projection.weight.grad, reference.projection.weight.grad)


def test_projection_is_a_loss_parameter_sized_by_the_encoder(tiny_model_dir):
    encoder = HFEncoder(str(tiny_model_dir))
    loss = EmbedDistillLoss(projection_dim=12)
    assert loss.projection is None and not list(loss.parameters())
    loss.bind_encoder(encoder)
    assert isinstance(loss.projection, nn.Linear)
    assert (loss.projection.in_features, loss.projection.out_features) == (encoder.embedding_dim, 12)
    assert {name for name, _ in loss.named_parameters()} == {"projection.weight", "projection.bias"}


def test_formats():
    assert EmbedDistillLoss.accepts == {BatchFormat.DISTILLATION, BatchFormat.GUIDED}


@pytest.mark.parametrize(
    ("loss", "n_columns", "labels", "match"),
    [
        (EmbedDistillLoss(), 1, None, "requires precomputed teacher embeddings as labels"),
        (EmbedDistillLoss(), 2, torch.zeros(10, 3, DIM), r"Number of label columns \(3\) does not match .* \(2\)"),
        (EmbedDistillLoss(), 1, torch.zeros(10), "Expected labels to be 2D .* got 1D"),
        (EmbedDistillLoss(), 1, torch.zeros(10, 5), r"differ in shape; set projection_dim to the teacher's size"),
        (EmbedDistillLoss(projection_dim=4), 1, torch.zeros(10, 4), "must be bound to the encoder"),
    ],
)
def test_bad_inputs(loss, n_columns, labels, match):
    with pytest.raises(ValueError, match=match):
        loss(embeddings(n_columns), labels)


def test_invalid_arguments():
    with pytest.raises(ValueError, match="distance_metric must be one of 'mse', 'l2', 'cosine'"):
        EmbedDistillLoss("dot")
    with pytest.raises(ValueError, match="projection_dim must be a positive integer"):
        EmbedDistillLoss(projection_dim=0)
