from pathlib import Path

import pytest
import torch
from sentence_transformers import SentenceTransformer

from core.model_resolution import embedded_model_path, resolve_model_name_or_path
from lightning_modules.encoders.hf_encoder import HFEncoder
from lightning_modules.encoders.pooling import POOLING_MODES

SENTENCES = [
    "A man is playing a flute.",
    "A plane is taking off.",
    "Two dogs run through the snow, chasing a red ball across the field.",
    "ok",
]


@pytest.fixture(scope="module")
def tiny_encoder(tiny_model_dir: Path) -> HFEncoder:
    return HFEncoder(str(tiny_model_dir), pooling="mean", normalize=True, max_seq_length=64)


def test_loaded_in_train_mode(tiny_encoder: HFEncoder) -> None:
    # from_pretrained returns eval mode; training without dropout would be silent.
    assert tiny_encoder.transformer.training
    assert all(m.training for m in tiny_encoder.transformer.modules())


@pytest.mark.parametrize("pooling", POOLING_MODES)
@pytest.mark.parametrize("normalize", [True, False])
def test_export_round_trip_matches_sentence_transformers(
    tiny_model_dir: Path, tmp_path: Path, pooling: str, normalize: bool
) -> None:
    encoder = HFEncoder(str(tiny_model_dir), pooling=pooling, normalize=normalize, max_seq_length=64).eval()
    ours = encoder.encode(SENTENCES)
    exported = encoder.save_sentence_transformer(tmp_path / "model")
    theirs = torch.from_numpy(SentenceTransformer(str(exported), device="cpu").encode(SENTENCES))
    assert ours.shape == theirs.shape
    assert (ours - theirs).abs().max().item() <= 1e-5


def test_export_replaces_existing_model_only_when_complete(tiny_encoder: HFEncoder, tmp_path: Path) -> None:
    target = tmp_path / "model"
    tiny_encoder.save_sentence_transformer(target)
    tiny_encoder.save_sentence_transformer(target)
    assert (target / "modules.json").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["model"], "no staging directory may be left behind"


def test_encode_keeps_input_order_and_matches_forward(tiny_encoder: HFEncoder) -> None:
    tiny_encoder.eval()
    try:
        batched = tiny_encoder.encode(SENTENCES, batch_size=2)
        one_by_one = torch.cat([tiny_encoder.encode([s]) for s in SENTENCES])
    finally:
        tiny_encoder.train()
    torch.testing.assert_close(batched, one_by_one, rtol=1e-5, atol=1e-5)


def test_forward_all_layers_last_equals_forward(tiny_encoder: HFEncoder) -> None:
    tiny_encoder.eval()
    try:
        features = tiny_encoder.tokenize(SENTENCES)
        layers = tiny_encoder.forward_all_layers(features)
        final = tiny_encoder(features)
    finally:
        tiny_encoder.train()
    assert len(layers) == tiny_encoder.num_layers + 1  # embedding layer + each transformer layer
    torch.testing.assert_close(layers[-1], final)


def test_default_model_resolves_to_embedded_package() -> None:
    assert Path(resolve_model_name_or_path("sentence-transformers/all-MiniLM-L6-v2")) == embedded_model_path()


def test_missing_local_model_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        resolve_model_name_or_path(str(tmp_path / "nope"))
    with pytest.raises(FileNotFoundError, match="no config.json"):
        resolve_model_name_or_path(str(tmp_path))


def test_bad_max_seq_length(tiny_model_dir: Path) -> None:
    with pytest.raises(ValueError, match="max_seq_length"):
        HFEncoder(str(tiny_model_dir), max_seq_length=0)


@pytest.mark.slow
def test_embedded_model_matches_sentence_transformers() -> None:
    encoder = HFEncoder().eval()
    theirs = torch.from_numpy(SentenceTransformer(str(embedded_model_path()), device="cpu").encode(SENTENCES))
    assert (encoder.encode(SENTENCES) - theirs).abs().max().item() <= 1e-5


def test_length_chunks_give_the_same_embeddings_and_gradients(tiny_model_dir: Path) -> None:
    words = "a quick brown fox jumps over the lazy dog near the river bank".split()
    sentences = [" ".join(words[: 1 + (i * 7) % len(words)]) for i in range(37)]
    chunked = HFEncoder(str(tiny_model_dir), length_chunk_size=5).eval()
    whole = HFEncoder(str(tiny_model_dir), length_chunk_size=None).eval()
    features = chunked.tokenize(sentences)
    for layer_c, layer_w in zip(chunked.forward_all_layers(features), whole.forward_all_layers(features), strict=True):
        torch.testing.assert_close(layer_c, layer_w, rtol=1e-5, atol=1e-6)
    weights = torch.randn(37, chunked.embedding_dim)
    (chunked(features) * weights).sum().backward()
    (whole(features) * weights).sum().backward()
    for p_c, p_w in zip(chunked.parameters(), whole.parameters(), strict=True):
        torch.testing.assert_close(p_c.grad, p_w.grad, rtol=1e-4, atol=1e-6)
