import numpy as np
import pytest
import torch
from mteb.models import EncoderProtocol
from mteb.models.model_meta import ScoringFunction

from experiments.evaluation.mteb_encoder import LosslabMTEBEncoder


def test_is_an_mteb_encoder_with_unique_identity(tiny_encoder):
    wrapper = LosslabMTEBEncoder(tiny_encoder, "losslab/run-7", "step-100")
    assert isinstance(wrapper, EncoderProtocol)
    meta = wrapper.mteb_model_meta
    assert (meta.name, meta.revision) == ("losslab/run-7", "step-100")
    assert meta.similarity_fn_name is ScoringFunction.COSINE
    assert meta.embed_dim == tiny_encoder.embedding_dim


def test_embeds_each_distinct_text_once(tiny_encoder, monkeypatch):
    calls = []
    original = tiny_encoder.encode
    monkeypatch.setattr(
        tiny_encoder, "encode", lambda s, batch_size, prompt: calls.append(list(s)) or original(s, batch_size, prompt)
    )
    wrapper = LosslabMTEBEncoder(tiny_encoder, "losslab/x", "r")
    sentences = ["b c", "a", "b c", "a", "d"]
    out = wrapper.embed(sentences, batch_size=2)
    wrapper.embed(["d", "e"], batch_size=2)
    assert calls == [["b c", "a", "d"], ["e"]]
    tiny_encoder.eval()
    np.testing.assert_allclose(out, original(sentences, 8).numpy(), atol=1e-6)


@pytest.mark.parametrize("training", [True, False])
def test_restores_train_mode(tiny_encoder, training):
    tiny_encoder.train(training)
    LosslabMTEBEncoder(tiny_encoder, "losslab/x", "r").embed(["one", "two"], batch_size=4)
    assert tiny_encoder.training is training
    assert tiny_encoder.transformer.training is training


def test_embeddings_are_deterministic_despite_dropout(tiny_encoder):
    tiny_encoder.train()
    first = LosslabMTEBEncoder(tiny_encoder, "losslab/x", "r").embed(["same text"], 1)
    second = LosslabMTEBEncoder(tiny_encoder, "losslab/x", "r").embed(["same text"], 1)
    np.testing.assert_array_equal(first, second)


def test_bf16_is_close_to_fp32(tiny_encoder):
    sentences = ["a dog runs in the park", "a cat sleeps", "stock markets fell"]
    fp32 = torch.from_numpy(LosslabMTEBEncoder(tiny_encoder, "losslab/x", "r").embed(sentences, 2))
    bf16 = torch.from_numpy(LosslabMTEBEncoder(tiny_encoder, "losslab/x", "r", precision="bf16").embed(sentences, 2))
    assert bf16.dtype == torch.float32
    assert torch.nn.functional.cosine_similarity(fp32, bf16).min() > 0.98


@pytest.mark.parametrize(
    ("name", "precision", "message"), [("noslash", "fp32", "organisation/name"), ("a/b", "fp8", "precision")]
)
def test_rejects_bad_arguments(tiny_encoder, name, precision, message):
    with pytest.raises(ValueError, match=message):
        LosslabMTEBEncoder(tiny_encoder, name, "r", precision=precision)
