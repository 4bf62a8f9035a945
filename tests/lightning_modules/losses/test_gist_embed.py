"""GISTEmbedLoss and CachedGISTEmbedLoss: parity with sentence-transformers 6.2 on every option.

sentence-transformers' losses run their guide model under ``no_grad``; here both sides get the same guide
embeddings (ours as the batch's labels, theirs as what the guide "embeds"), and value and gradients
w.r.t. the student embeddings are compared. The gradient w.r.t. the guide embeddings must be absent.
"""

from __future__ import annotations

import pytest
import torch
from sentence_transformers.sentence_transformer import losses as st
from sentence_transformers.sentence_transformer.losses import gist_embed as st_gist
from torch import Tensor

from core.batch_formats import BatchFormat, BatchSampling
from lightning_modules.losses.cached_gist_embed import CachedGISTEmbedLoss
from lightning_modules.losses.gist_embed import GISTEmbedLoss
from tests.lightning_modules.losses.st_reference import (
    FakeSentenceTransformer,
    assert_parity,
    embeddings,
    given_embeddings,
)

BATCH = 10
OPTIONS = [
    pytest.param(dict(), id="defaults"),
    pytest.param(dict(margin_strategy="absolute", margin=0.1), id="absolute-0.1"),
    pytest.param(dict(margin_strategy="absolute", margin=-0.2), id="absolute--0.2"),
    pytest.param(dict(margin_strategy="relative", margin=0.05), id="relative-0.05"),
    pytest.param(dict(margin_strategy="relative", margin=0.5), id="relative-0.5"),
    pytest.param(dict(contrast_anchors=False), id="no-anchor-contrast"),
    pytest.param(dict(contrast_positives=False), id="no-positive-contrast"),
    pytest.param(dict(contrast_anchors=False, contrast_positives=False, temperature=0.05), id="plain-t0.05"),
]


def _guided_batch(n_columns: int, seed: int = 0) -> tuple[list[Tensor], Tensor]:
    """Student embeddings and correlated guide embeddings (so the guide masks some, not all, candidates)."""
    student = embeddings(n_columns, BATCH, seed=seed)
    noise = embeddings(n_columns, BATCH, dim=6, seed=seed + 100)
    guide = torch.stack([s[:, :6] + 0.7 * n for s, n in zip(student, noise, strict=True)], dim=1)
    return student, guide


def _st_gist(options: dict) -> st.GISTEmbedLoss:
    return st.GISTEmbedLoss(FakeSentenceTransformer("student"), FakeSentenceTransformer("guide"), **options)


def _st_cached_gist(options: dict, mini_batch_size: int) -> st.CachedGISTEmbedLoss:
    model, guide = FakeSentenceTransformer("student"), FakeSentenceTransformer("guide")
    return st.CachedGISTEmbedLoss(model, guide, mini_batch_size=mini_batch_size, **options)


@pytest.mark.parametrize("cached", [False, True], ids=["GISTEmbedLoss", "CachedGISTEmbedLoss"])
@pytest.mark.parametrize("n_columns", [2, 3])
@pytest.mark.parametrize("options", OPTIONS)
def test_parity_with_st_gist_embed_loss(options, n_columns, cached):
    student, guide = _guided_batch(n_columns)
    ours = CachedGISTEmbedLoss(**options) if cached else GISTEmbedLoss(**options)
    reference = _st_gist(options)

    def st_loss(inputs: list[Tensor]) -> Tensor:
        features = [{"student": s, "guide": g} for s, g in zip(inputs[:-1], inputs[-1].unbind(1), strict=True)]
        with given_embeddings(st_gist):
            return reference(features, None)

    assert_parity(lambda x: ours(x[:-1], x[-1]).loss, st_loss, [*student, guide])


@pytest.mark.parametrize("n_columns", [2, 3, 5])
@pytest.mark.parametrize("mini_batch_size", [3, BATCH])
@pytest.mark.parametrize("options", OPTIONS)
def test_parity_with_st_cached_gist_loss_computation(options, mini_batch_size, n_columns):
    # sentence-transformers' CachedGISTEmbedLoss takes any number of negatives and computes its loss over
    # mini-batches of anchors; ours computes the same loss at once.
    student, guide = _guided_batch(n_columns, seed=1)
    reference = _st_cached_gist(options, mini_batch_size)

    def st_loss(inputs: list[Tensor]) -> Tensor:
        reps = [list(column.split(mini_batch_size)) for column in inputs[:-1]]
        guided = [list(column.split(mini_batch_size)) for column in inputs[-1].unbind(1)]
        return reference.calculate_loss(reps, guided)

    assert_parity(lambda x: GISTEmbedLoss(**options)(x[:-1], x[-1]).loss, st_loss, [*student, guide])


def test_the_guide_filter_matters():
    # Without the guide's masks (a guide that flags nothing) the loss is MultipleNegativesRanking-like and differs.
    student, guide = _guided_batch(3)
    loss = GISTEmbedLoss()
    flags_nothing = torch.zeros_like(guide)
    flags_nothing[:, 0, 0] = 1.0  # anchors along one axis, every other guide embedding orthogonal
    flags_nothing[:, 1, 0] = 1.0
    flags_nothing[:, 2, 1] = 1.0
    out = loss(student, guide)
    assert 0 < out.stats["false_negative_fraction"] < 1
    assert not torch.isclose(out.loss, loss(student, flags_nothing).loss)


def test_contract_and_statistics():
    student, guide = _guided_batch(3)
    out = GISTEmbedLoss()(student, guide)
    assert GISTEmbedLoss.accepts == {BatchFormat.GUIDED} and GISTEmbedLoss.sampling is BatchSampling.NO_DUPLICATES
    assert set(out.stats) == {"accuracy", "positive_similarity", "false_negative_fraction"}
    aligned = [student[0], student[0] + 0.01 * student[1], student[2]]
    assert GISTEmbedLoss()(aligned, guide).stats["accuracy"] == 1.0


@pytest.mark.parametrize(
    ("labels", "match"),
    [
        (None, r"guide embeddings of shape \(batch_size, columns, guide_dim\) = \(10, 3, ...\)"),
        (torch.zeros(BATCH, 2, 6), r"got \(10, 2, 6\)"),
        (torch.zeros(BATCH, 6), r"got \(10, 6\)"),
    ],
)
def test_bad_labels_are_named(labels, match):
    with pytest.raises(ValueError, match=match):
        GISTEmbedLoss()(embeddings(3, BATCH), labels)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"margin_strategy": "percent"}, "margin_strategy must be 'absolute' or 'relative'"),
        ({"temperature": 0.0}, "temperature must be > 0"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GISTEmbedLoss(**kwargs)


def test_cached_invalid_token_budget():
    with pytest.raises(ValueError, match="mini_batch_num_tokens must be a positive integer or None"):
        CachedGISTEmbedLoss(mini_batch_num_tokens=0)


def test_guide_from_the_data_equals_sentence_transformers_running_the_guide_model(tiny_model_dir, tmp_path):
    # End to end with real models: our guide embeddings come from the DataModule path (TeacherEncoder through
    # distill: guide, then the collator); sentence-transformers' GISTEmbedLoss runs the same guide model
    # itself. Dropout off on both sides and float64 students (sentence-transformers embeds the candidate
    # columns in one merged forward pass, which changes float32 rounding), so every encoder gradient agrees.
    from sentence_transformers import SentenceTransformer

    from datamodules.collators import TokenizingCollator
    from datamodules.distillation import get_distillation
    from datamodules.teacher_embeddings import TeacherEmbeddings
    from datamodules.text_dataset import TextDataset
    from lightning_modules.encoders.hf_encoder import HFEncoder
    from lightning_modules.encoders.teacher_encoder import TeacherEncoder
    from tests.lightning_modules.losses.text_batches import sentences

    columns = [sentences(6, seed=c) for c in range(3)]
    rows = TextDataset(BatchFormat.TRIPLET, columns, None, name="triplets")
    guide = TeacherEncoder(str(tiny_model_dir))
    guided = get_distillation("guide").apply(rows, TeacherEmbeddings(guide, str(tmp_path / "cache")))
    torch.manual_seed(0)
    encoder = HFEncoder(str(tiny_model_dir), pooling="cls", normalize=False).eval()
    batch = TokenizingCollator(encoder.tokenizer, BatchFormat.GUIDED, encoder.max_seq_length)(
        [guided[i] for i in range(len(guided))]
    )
    st_student = SentenceTransformer(str(encoder.save_sentence_transformer(tmp_path / "student"))).eval().double()
    encoder.double()
    st_guide_encoder = HFEncoder(str(tiny_model_dir), pooling=guide.pooling, normalize=guide.normalize)
    st_guide = SentenceTransformer(str(st_guide_encoder.save_sentence_transformer(tmp_path / "guide"))).eval()

    options = dict(margin_strategy="relative", margin=0.01)
    out = GISTEmbedLoss(**options).training_loss(encoder, batch)
    ours = out.loss
    assert 0 < out.stats["false_negative_fraction"] < 1  # the guide's filter is at work, not all-or-nothing
    reference_loss = st.GISTEmbedLoss(st_student, st_guide, **options)
    assert not reference_loss.must_retokenize  # same tokenizer: the guide reads the student's features
    theirs = reference_loss([st_student.preprocess(column) for column in columns], None)
    assert ours > 0
    torch.testing.assert_close(ours, theirs, rtol=1e-9, atol=1e-12)
    ours.backward()
    theirs.backward()
    st_params = dict(st_student[0].auto_model.named_parameters())
    compared = 0
    for name, param in encoder.transformer.named_parameters():
        if param.grad is not None:
            torch.testing.assert_close(param.grad, st_params[name].grad, rtol=1e-7, atol=1e-10)
            compared += 1
    assert compared > 10
