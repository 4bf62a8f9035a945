"""A sentence-transformers model directory's module stack, read into plain typed records.

``modules.json`` lists the modules; each one's folder holds its config. losslab represents the stack
Transformer → Pooling → any sequence of Dense / Normalize, plus the model-level prompts, default prompt and
similarity function of ``config_sentence_transformers.json``. Anything else is refused with one line
naming the module, rather than producing different embeddings than ``SentenceTransformer(path)``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lightning_modules.encoders.pooling import PoolingMode, pooling_modes

SUPPORTED_MODULES = ("Transformer", "Pooling", "Dense", "Normalize")
# sentence_bert_config.json keys with the only value losslab's encoder implements ...
_FIXED_TRANSFORMER_KEYS = {
    "transformer_task": "feature-extraction",
    "module_output_name": "token_embeddings",
    "modality_config": {"text": {"method": "forward", "method_output_name": "last_hidden_state"}},
}
# ... keys that may hold any value (unpad_inputs: flash-attention unpadding, a speed option) ...
_FREE_TRANSFORMER_KEYS = {"max_seq_length", "do_lower_case", "unpad_inputs"}
# ... and every other key (processing_kwargs, multi-vector query_length, model_args, ...) must be empty.
_TRANSFORMER_CONFIG_FILES = (
    "sentence_bert_config.json",
    "sentence_roberta_config.json",
    "sentence_distilbert_config.json",
    "sentence_camembert_config.json",
    "sentence_albert_config.json",
    "sentence_xlm-roberta_config.json",
    "sentence_xlnet_config.json",
)


class UnsupportedModuleError(ValueError):
    """A module (or module setting) of a sentence-transformers model that losslab cannot represent."""


@dataclass(frozen=True)
class DenseSpec:
    """A ``Dense`` module: ``activation(linear(x)) [+ residual(x)]`` on the sentence embedding.

    Attributes:
        path: Its folder (weights in ``model.safetensors`` or ``pytorch_model.bin``).
        in_features: Input size.
        out_features: Output size.
        bias: Whether the linear layer has a bias.
        activation_function: Dotted name of a ``torch.nn`` module class (e.g. ``torch.nn.modules.activation.Tanh``).
        use_residual: Add the (projected, when sizes differ) input to the output.
    """

    path: Path
    in_features: int
    out_features: int
    bias: bool = True
    activation_function: str = "torch.nn.modules.activation.Tanh"
    use_residual: bool = False


@dataclass(frozen=True)
class NormalizeSpec:
    """A ``Normalize`` module: L2 normalisation of the sentence embedding."""


HeadSpec = DenseSpec | NormalizeSpec


@dataclass(frozen=True)
class ModuleStack:
    """What a sentence-transformers directory says about how to embed a text.

    Attributes:
        transformer_path: Folder of the Hugging Face model and tokenizer (usually the root).
        max_seq_length: The Transformer's truncation length (``None``: the tokenizer's own, capped at the
            model's ``max_position_embeddings``, as sentence-transformers does).
        do_lower_case: Lowercase the input before tokenising.
        pooling: The pooling mode, or several (concatenated in order).
        include_prompt: Whether prompt tokens are pooled (``False``: they are masked out).
        head: The modules after Pooling, in order.
        prompts: Prompt name → text prepended at inference.
        default_prompt_name: The prompt applied when none is asked for.
        similarity_fn_name: The model's declared similarity (``cosine``, ``dot``, ...), if any.
    """

    transformer_path: Path
    max_seq_length: int | None = None
    do_lower_case: bool = False
    pooling: PoolingMode | tuple[PoolingMode, ...] = "mean"
    include_prompt: bool = True
    head: tuple[HeadSpec, ...] = ()
    prompts: dict[str, str] = field(default_factory=dict)
    default_prompt_name: str | None = None
    similarity_fn_name: str | None = None

    @property
    def normalize(self) -> bool:
        """Whether the stack ends in an L2 normalisation."""
        return bool(self.head) and isinstance(self.head[-1], NormalizeSpec)


def _read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _module_name(entry: dict[str, Any]) -> str | None:
    """``Pooling`` for any sentence-transformers spelling of the class (legacy ``models.`` or v6 paths)."""
    kind = str(entry.get("type", ""))
    name = kind.rsplit(".", 1)[-1]
    return name if kind.startswith("sentence_transformers.") and name in SUPPORTED_MODULES else None


def _describe(model_dir: Path, index: int, entry: dict[str, Any]) -> str:
    return f"{model_dir}: module {index} ({entry.get('type')!r} in {entry.get('path') or '.'!r})"


def _transformer_settings(folder: Path, where: str) -> tuple[int | None, bool]:
    config = next((_read_json(folder / name) for name in _TRANSFORMER_CONFIG_FILES if (folder / name).is_file()), {})
    for key, value in config.items():
        if key in _FIXED_TRANSFORMER_KEYS and value != _FIXED_TRANSFORMER_KEYS[key]:
            raise UnsupportedModuleError(
                f"{where}: {key}={value!r} is not supported (losslab needs {_FIXED_TRANSFORMER_KEYS[key]!r})"
            )
        if key not in _FIXED_TRANSFORMER_KEYS and key not in _FREE_TRANSFORMER_KEYS and value not in (None, {}, []):
            raise UnsupportedModuleError(f"{where}: Transformer setting {key}={value!r} is not supported")
    length = config.get("max_seq_length")
    return (int(length) if length else None), bool(config.get("do_lower_case", False))


def _pooling(folder: Path, where: str) -> tuple[PoolingMode | tuple[PoolingMode, ...], bool]:
    config = _read_json(folder / "config.json")
    if "pooling_mode" in config:
        raw = config["pooling_mode"]
    else:  # legacy boolean flags, in sentence-transformers' concatenation order
        flags = {
            "pooling_mode_cls_token": "cls",
            "pooling_mode_max_tokens": "max",
            "pooling_mode_mean_tokens": "mean",
            "pooling_mode_mean_sqrt_len_tokens": "mean_sqrt_len_tokens",
            "pooling_mode_weightedmean_tokens": "weightedmean",
            "pooling_mode_lasttoken": "lasttoken",
        }
        raw = [mode for key, mode in flags.items() if config.get(key)] or ["mean"]
    try:
        modes = pooling_modes(raw)
    except ValueError as err:
        raise UnsupportedModuleError(f"{where}: {err}") from err
    pooling = modes[0] if len(modes) == 1 else modes
    return pooling, bool(config.get("include_prompt", True))  # type: ignore[return-value]


def _dense(folder: Path, where: str) -> DenseSpec:
    config = _read_json(folder / "config.json")
    for key in ("module_input_name", "module_output_name"):
        if config.get(key, "sentence_embedding") not in ("sentence_embedding", None):
            raise UnsupportedModuleError(f"{where}: Dense on {config[key]!r} is not supported")
    activation = config.get("activation_function", "torch.nn.modules.activation.Tanh")
    if not str(activation).startswith("torch."):
        raise UnsupportedModuleError(f"{where}: activation {activation!r} is not a torch.nn module")
    return DenseSpec(
        path=folder,
        in_features=int(config["in_features"]),
        out_features=int(config["out_features"]),
        bias=bool(config.get("bias", True)),
        activation_function=str(activation),
        use_residual=bool(config.get("use_residual", False)),
    )


def _normalize(folder: Path, where: str) -> NormalizeSpec:
    config = _read_json(folder / "config.json")
    for key in ("module_input_name", "module_output_name"):
        if config.get(key, "sentence_embedding") not in ("sentence_embedding", None):
            raise UnsupportedModuleError(f"{where}: Normalize on {config[key]!r} is not supported")
    return NormalizeSpec()


def read_module_stack(model_dir: str | Path) -> ModuleStack | None:
    """Read the module stack of a local sentence-transformers model directory.

    Args:
        model_dir: The directory (holding ``modules.json``).

    Returns:
        The stack, or ``None`` for a plain Hugging Face model directory (no ``modules.json``).

    Raises:
        UnsupportedModuleError: For a module or setting losslab cannot represent (the message names it).
    """
    model_dir = Path(model_dir)
    if not (model_dir / "modules.json").is_file():
        return None
    entries = sorted(_read_json_list(model_dir / "modules.json"), key=lambda e: int(e.get("idx", 0)))
    names = [_module_name(e) for e in entries]
    for index, (entry, name) in enumerate(zip(entries, names, strict=True)):
        if name is None:
            raise UnsupportedModuleError(
                f"{_describe(model_dir, index, entry)} is not supported by losslab's encoder; "
                f"supported: {', '.join(SUPPORTED_MODULES)}"
            )
    if names[:2] != ["Transformer", "Pooling"] or {"Transformer", "Pooling"} & set(names[2:]):
        raise UnsupportedModuleError(
            f"{model_dir}: module order {names} is not supported; losslab needs Transformer, Pooling, "
            "then any Dense / Normalize modules"
        )
    folders = [model_dir / str(e.get("path", "")) for e in entries]
    where = [_describe(model_dir, i, e) for i, e in enumerate(entries)]
    max_seq_length, do_lower_case = _transformer_settings(folders[0], where[0])
    pooling, include_prompt = _pooling(folders[1], where[1])
    head = tuple(
        _dense(folder, w) if name == "Dense" else _normalize(folder, w)
        for name, folder, w in zip(names[2:], folders[2:], where[2:], strict=True)
    )
    model_config = _read_json(model_dir / "config_sentence_transformers.json")
    prompts = {str(k): str(v) for k, v in (model_config.get("prompts") or {}).items() if v is not None}
    default_prompt = model_config.get("default_prompt_name")
    if default_prompt is not None and default_prompt not in prompts:
        raise UnsupportedModuleError(
            f"{model_dir}: default_prompt_name {default_prompt!r} is not one of the prompts {sorted(prompts)}"
        )
    return ModuleStack(
        transformer_path=folders[0],
        max_seq_length=max_seq_length,
        do_lower_case=do_lower_case,
        pooling=pooling,
        include_prompt=include_prompt,
        head=head,
        prompts=prompts,
        default_prompt_name=default_prompt,
        similarity_fn_name=model_config.get("similarity_fn_name"),
    )


def _read_json_list(path: Path) -> list[dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, list) or not all(isinstance(e, dict) for e in data):
        raise UnsupportedModuleError(f"{path}: expected a list of module entries")
    return data
