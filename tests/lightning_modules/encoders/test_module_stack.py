import json
import shutil
from pathlib import Path

import pytest

from core.model_resolution import embedded_model_path
from lightning_modules.encoders.module_stack import (
    DenseSpec,
    NormalizeSpec,
    UnsupportedModuleError,
    read_module_stack,
)
from tests.sentence_transformer_models import make_sentence_transformer


@pytest.fixture(scope="module")
def full_stack(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_sentence_transformer(
        tmp_path_factory.mktemp("st") / "model",
        tiny_model_dir,
        pooling=("cls", "mean"),
        include_prompt=False,
        dense=(16,),
        normalize=True,
        max_seq_length=20,
        prompts={"query": "query: ", "document": "passage: "},
        default_prompt_name="query",
    )


def test_reads_the_embedded_legacy_model() -> None:
    # all-MiniLM-L6-v2 (sentence-transformers 2.0 layout): legacy pooling flags, max_seq_length in the config.
    stack = read_module_stack(embedded_model_path())
    assert stack is not None
    assert (stack.pooling, stack.include_prompt, stack.head, stack.max_seq_length) == (
        "mean",
        True,
        (NormalizeSpec(),),
        256,
    )
    assert stack.transformer_path == embedded_model_path()


def test_reads_a_sentence_transformers_6_model(full_stack: Path) -> None:
    stack = read_module_stack(full_stack)
    assert stack is not None
    assert stack.pooling == ("cls", "mean")
    assert stack.include_prompt is False
    assert stack.head == (DenseSpec(full_stack / "2_Dense", 64, 16), NormalizeSpec())
    assert stack.normalize
    assert stack.max_seq_length is None  # v6 keeps it in the tokenizer config (model_max_length)
    assert stack.prompts["query"] == "query: " and stack.default_prompt_name == "query"


def test_plain_hugging_face_directory_has_no_stack(tiny_model_dir: Path) -> None:
    assert read_module_stack(tiny_model_dir) is None


def _edit_json(path: Path, edit) -> None:
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))


def _insert_layer_norm(d: Path) -> None:
    def insert(modules: list) -> None:
        modules.insert(2, {"name": "2", "path": "2_LayerNorm", "type": "sentence_transformers.models.LayerNorm"})
        for i, entry in enumerate(modules):
            entry["idx"] = i

    _edit_json(d / "modules.json", insert)


def _pooling_first(modules: list) -> None:
    modules[0]["idx"], modules[1]["idx"] = 1, 0


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            _insert_layer_norm,
            r"module 2 \('sentence_transformers.models.LayerNorm' in '2_LayerNorm'\) is not supported",
        ),
        (
            lambda d: _edit_json(d / "modules.json", _pooling_first),
            "module order .* is not supported",
        ),
        (
            lambda d: _edit_json(
                d / "2_Dense" / "config.json", lambda c: c.update(module_input_name="token_embeddings")
            ),
            "Dense on 'token_embeddings' is not supported",
        ),
        (
            lambda d: _edit_json(d / "2_Dense" / "config.json", lambda c: c.update(activation_function="my.Act")),
            "activation 'my.Act' is not a torch.nn module",
        ),
        (
            lambda d: _edit_json(d / "sentence_bert_config.json", lambda c: c.update(transformer_task="fill-mask")),
            "transformer_task='fill-mask' is not supported",
        ),
        (
            lambda d: _edit_json(d / "sentence_bert_config.json", lambda c: c.update(query_length=32)),
            "setting query_length=32 is not supported",
        ),
        (
            lambda d: _edit_json(d / "1_Pooling" / "config.json", lambda c: c.update(pooling_mode="sum")),
            "pooling must be one of",
        ),
        (
            lambda d: _edit_json(
                d / "config_sentence_transformers.json", lambda c: c.update(default_prompt_name="nope")
            ),
            "default_prompt_name 'nope' is not one of the prompts",
        ),
    ],
    ids=["unknown-module", "order", "dense-input", "activation", "task", "multi-vector", "pooling-mode", "prompt"],
)
def test_unrepresentable_stacks_are_one_clear_error(full_stack: Path, tmp_path: Path, edit, message: str) -> None:
    copy = Path(shutil.copytree(full_stack, tmp_path / "copy"))
    edit(copy)
    with pytest.raises(UnsupportedModuleError, match=message) as info:
        read_module_stack(copy)
    assert "\n" not in str(info.value)
