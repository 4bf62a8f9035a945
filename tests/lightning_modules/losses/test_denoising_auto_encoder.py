"""TSDAE against sentence-transformers 6.2's DenoisingAutoEncoderLoss on the tiny model."""

from __future__ import annotations

import pytest
import torch
from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer import losses as st
from sentence_transformers.sentence_transformer.modules import Pooling, Transformer

from core.batch_formats import BatchFormat, TokenizedBatch
from lightning_modules.encoders.hf_encoder import HFEncoder
from lightning_modules.losses.denoising_auto_encoder import DenoisingAutoEncoderLoss
from tests.lightning_modules.losses.text_batches import sentences

MAX_LEN = 24


def _noisy(texts: list[str]) -> list[str]:
    # Deterministic stand-in for TSDAE's word deletion: drop every second word.
    return [" ".join(t.split()[::2]) for t in texts]


@pytest.fixture
def setup(tiny_model_dir):
    encoder = HFEncoder(str(tiny_model_dir), pooling="cls", normalize=False, max_seq_length=MAX_LEN)
    loss = DenoisingAutoEncoderLoss()
    loss.bind_encoder(encoder)
    originals = sentences(5)
    batch = TokenizedBatch([encoder.tokenize(_noisy(originals))], None, BatchFormat.SINGLE, [originals])
    return encoder, loss, batch


def test_parity_with_sentence_transformers(tiny_model_dir, setup):
    encoder, loss, batch = setup
    transformer = Transformer(str(tiny_model_dir), max_seq_length=MAX_LEN)
    model = SentenceTransformer(modules=[transformer, Pooling(transformer.get_embedding_dimension(), "cls")])
    reference_loss = st.DenoisingAutoEncoderLoss(model, tie_encoder_decoder=True)
    # Same weights everywhere (the cross-attention is freshly initialised by both).
    reference_loss.decoder.load_state_dict(loss.decoder.state_dict())
    for module in (model, reference_loss, encoder, loss):
        module.eval()  # no dropout: the two implementations draw random numbers differently
    target = dict(encoder.tokenize(batch.texts[0]))
    reference = reference_loss([dict(batch.features[0]), target], None)
    ours = loss.training_loss(encoder, batch)
    torch.testing.assert_close(ours.loss, reference, rtol=1e-5, atol=1e-6)
    assert int(ours.stats["target_tokens"]) == int((target["input_ids"][:, 1:] != 0).sum())

    ours.loss.backward()
    reference.backward()
    ours_grads = dict(encoder.transformer.named_parameters())
    for name, param in model[0].auto_model.named_parameters():
        torch.testing.assert_close(ours_grads[name].grad, param.grad, rtol=1e-4, atol=1e-6, msg=name)


def test_weights_are_tied_except_cross_attention(setup):
    encoder, loss, _ = setup
    encoder_params = {id(p) for p in encoder.transformer.parameters()}
    decoder_params = dict(loss.decoder.base_model.named_parameters())
    untied = {name for name, p in decoder_params.items() if id(p) not in encoder_params}
    assert untied and all("crossattention" in name for name in untied)
    # Every encoder weight is shared, except the pooler, which a decoder does not have.
    shared = {id(p) for p in decoder_params.values()}
    assert {n for n, p in encoder.transformer.named_parameters() if id(p) not in shared} <= {
        "pooler.dense.weight",
        "pooler.dense.bias",
    }


def test_training_reduces_the_reconstruction_loss(setup):
    encoder, loss, batch = setup
    params = {id(p): p for p in [*encoder.parameters(), *loss.parameters()]}.values()
    optimizer = torch.optim.Adam(params, lr=1e-3)
    losses = []
    for _ in range(5):
        optimizer.zero_grad()
        out = loss.training_loss(encoder, batch)
        out.loss.backward()
        optimizer.step()
        losses.append(out.loss.item())
    assert losses[-1] < losses[0]


def test_needs_bind_and_texts(tiny_model_dir, setup):
    encoder, loss, batch = setup
    with pytest.raises(RuntimeError, match="bind_encoder"):
        DenoisingAutoEncoderLoss().training_loss(encoder, batch)
    with pytest.raises(ValueError, match="batch.texts"):
        loss.training_loss(encoder, TokenizedBatch(batch.features, None, BatchFormat.SINGLE, None))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"decoder_name_or_path": "bert-base-uncased"}, "must be None"),
        ({"tie_encoder_decoder": False}, "required"),
    ],
)
def test_invalid_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DenoisingAutoEncoderLoss(**kwargs)
