import json
import shutil
import warnings
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer.modules import LayerNorm, Pooling, Transformer

from core.model_resolution import embedded_model_path, resolve_model_name_or_path
from lightning_modules.encoders.hf_encoder import HFEncoder
from lightning_modules.encoders.module_stack import UnsupportedModuleError, read_module_stack
from lightning_modules.encoders.pooling import POOLING_MODES
from tests.sentence_transformer_models import make_sentence_transformer

SENTENCES = [
    "A man is playing a flute.",
    "A plane is taking off.",
    "Two dogs run through the snow, chasing a red ball across the field.",
    "ok",
]
# Our encode sorts by length and may chunk differently from sentence-transformers' batches: the same
# arithmetic on other padding widths differs by float32 rounding only (observed <= 1e-6).
TOLERANCE = 1e-5

# name -> make_sentence_transformer arguments: every pooling mode, with/without Normalize and Dense,
# concatenated modes, prompts excluded from pooling, a default prompt.
STACKS = {
    **{f"{mode}": {"pooling": mode} for mode in POOLING_MODES},
    "cls-normalize": {"pooling": "cls", "normalize": True},
    "mean-dense-normalize": {"pooling": "mean", "dense": (16,), "normalize": True},
    "lasttoken-two-dense": {"pooling": "lasttoken", "dense": (16, 8)},
    "cls+mean-dense": {"pooling": ("cls", "mean"), "dense": (12,), "max_seq_length": 8},
    "weightedmean-prompt-excluded": {
        "pooling": "weightedmean",
        "include_prompt": False,
        "prompts": {"query": "query: ", "document": "passage: "},
        "default_prompt_name": "query",
        "normalize": True,
    },
    "cls-prompt-excluded": {
        "pooling": "cls",
        "include_prompt": False,
        "prompts": {"query": "query: "},
        "default_prompt_name": "query",
    },
}


@pytest.fixture(scope="module")
def st_models(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("st_models")
    return {name: make_sentence_transformer(root / name, tiny_model_dir, **kw) for name, kw in STACKS.items()}


def _st_encode(path: Path, **kwargs) -> torch.Tensor:
    return torch.from_numpy(SentenceTransformer(str(path), device="cpu").encode(SENTENCES, **kwargs))


def _max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    assert a.shape == b.shape
    return (a - b).abs().max().item()


@pytest.mark.parametrize("name", list(STACKS))
def test_sentence_transformers_model_loads_with_its_own_stack(st_models: dict[str, Path], name: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "auto" never warns
        encoder = HFEncoder(str(st_models[name])).eval()
    assert _max_diff(encoder.encode(SENTENCES), _st_encode(st_models[name])) <= TOLERANCE
    # An explicit empty prompt, as SentenceTransformer.encode(prompt="").
    assert _max_diff(encoder.encode(SENTENCES, prompt=""), _st_encode(st_models[name], prompt="")) <= TOLERANCE


@pytest.mark.parametrize("name", list(STACKS))
def test_export_round_trips_the_stack(st_models: dict[str, Path], tmp_path: Path, name: str) -> None:
    encoder = HFEncoder(str(st_models[name])).eval()
    for p in encoder.head.parameters():  # trained weights, not the loaded ones, must come back
        torch.nn.init.normal_(p)
    exported = encoder.save_sentence_transformer(tmp_path / "model")
    original, reread = read_module_stack(st_models[name]), read_module_stack(exported)
    assert reread is not None and original is not None
    assert replace(reread, transformer_path=Path(), head=()) == replace(
        original, transformer_path=Path(), head=(), max_seq_length=None
    )
    assert [type(s) for s in reread.head] == [type(s) for s in original.head]
    assert _max_diff(encoder.encode(SENTENCES), _st_encode(exported)) <= TOLERANCE
    assert HFEncoder(str(exported)).max_seq_length == encoder.max_seq_length


def test_prompt_and_its_exclusion_change_the_embedding(st_models: dict[str, Path]) -> None:
    # Without these differences the parity tests above could not tell a prompt-ignoring encoder apart.
    encoder = HFEncoder(str(st_models["cls-prompt-excluded"])).eval()
    with_prompt, without = encoder.encode(SENTENCES), encoder.encode(SENTENCES, prompt="")
    assert _max_diff(with_prompt, without) > 1e-3
    encoder.include_prompt = True
    assert _max_diff(encoder.encode(SENTENCES), with_prompt) > 1e-3


def test_explicit_settings_override_the_model_with_a_warning(st_models: dict[str, Path]) -> None:
    path = str(st_models["cls"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        encoder = HFEncoder(path, pooling="mean", normalize=True, max_seq_length=8)
    assert sorted(str(w.message).split(": ", 1)[1] for w in caught) == [
        "max_seq_length=8 overrides the model's own max_seq_length=24",
        "normalize=True overrides the model's own normalize=False",
        "pooling='mean' overrides the model's own pooling='cls'",
    ]
    assert (encoder.pooling, encoder.normalize, encoder.max_seq_length) == ("mean", True, 8)
    reference = HFEncoder(str(st_models["mean"])).eval()
    encoder.eval()
    features = encoder.tokenize(SENTENCES)
    torch.testing.assert_close(encoder(features), torch.nn.functional.normalize(reference(features), dim=-1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an explicit value equal to the model's own is silent
        HFEncoder(path, pooling="cls", normalize=False, max_seq_length=24)


def test_explicit_normalize_false_removes_the_model_normalize(st_models: dict[str, Path]) -> None:
    with pytest.warns(UserWarning, match="normalize=False overrides"):
        encoder = HFEncoder(str(st_models["mean-dense-normalize"]), normalize=False).eval()
    assert not encoder.normalize and encoder.embedding_dim == 16
    norms = encoder.encode(SENTENCES).norm(dim=1)
    assert not torch.allclose(norms, torch.ones_like(norms))


def test_pooling_that_does_not_fit_the_dense_layer_is_refused(st_models: dict[str, Path]) -> None:
    with pytest.raises(ValueError, match="gives 64-d embeddings, but the model's first Dense module expects 32"):
        with pytest.warns(UserWarning):
            HFEncoder(str(st_models["lasttoken-two-dense"]), pooling=["cls", "max"])


def test_plain_hugging_face_model_gets_sentence_transformers_defaults(tiny_model_dir: Path) -> None:
    encoder = HFEncoder(str(tiny_model_dir)).eval()
    assert (encoder.pooling, encoder.normalize, encoder.max_seq_length) == ("mean", False, 512)
    assert _max_diff(encoder.encode(SENTENCES), _st_encode(tiny_model_dir)) <= TOLERANCE


def test_unrepresentable_module_is_refused_by_name(tiny_model_dir: Path, tmp_path: Path) -> None:
    transformer = Transformer(str(tiny_model_dir))
    modules = [transformer, Pooling(32), LayerNorm(32)]
    SentenceTransformer(modules=modules, device="cpu").save(str(tmp_path / "m"))
    with pytest.raises(UnsupportedModuleError, match="LayerNorm.* is not supported by losslab's encoder"):
        HFEncoder(str(tmp_path / "m"))


def test_legacy_do_lower_case_lowercases_like_sentence_transformers(tiny_model_dir: Path, tmp_path: Path) -> None:
    cased = Path(shutil.copytree(tiny_model_dir, tmp_path / "cased"))
    tokenizer_config = json.loads((cased / "tokenizer_config.json").read_text())
    (cased / "tokenizer_config.json").write_text(json.dumps({**tokenizer_config, "do_lower_case": False}))
    model = make_sentence_transformer(tmp_path / "st", cased, pooling="mean")
    (model / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 24, "do_lower_case": True}))
    upper = [s.upper() for s in SENTENCES]
    ours = HFEncoder(str(model)).eval().encode(upper)
    theirs = torch.from_numpy(SentenceTransformer(str(model), device="cpu").encode(upper))
    assert _max_diff(ours, theirs) <= TOLERANCE
    assert _max_diff(ours, HFEncoder(str(cased)).eval().encode(upper)) > 1e-3  # the cased tokenizer differs


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


def test_embedded_model_keeps_its_stack() -> None:
    # The README's leaderboard reproduction relies on exactly this: mean pooling, Normalize, 256 tokens.
    encoder = HFEncoder()
    assert (encoder.pooling, encoder.normalize, encoder.max_seq_length, encoder.default_prompt) == (
        "mean",
        True,
        256,
        "",
    )


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


def test_length_chunks_keep_prompt_exclusion(st_models: dict[str, Path]) -> None:
    # prompt_length travels with every chunk of a length-sorted batch.
    path = st_models["weightedmean-prompt-excluded"]
    chunked = HFEncoder(str(path), length_chunk_size=2).eval()
    assert _max_diff(chunked.encode(SENTENCES, batch_size=4), _st_encode(path)) <= TOLERANCE
