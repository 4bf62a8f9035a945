"""Where a model's files come from: a local directory, the embedded package, or a Hub snapshot (with its commit)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.model_resolution import DEFAULT_MODEL, EMBEDDED_MODEL_HINT, resolve_model_name_or_path

# Other frameworks' weight formats: a Hub snapshot for PyTorch needs none of them.
_SKIPPED_HUB_FILES = [
    "*.onnx",
    "onnx/*",
    "openvino/*",
    "*.h5",
    "*.msgpack",
    "*.ot",
    "tf_model*",
    "flax_model*",
    "rust_model*",
    "coreml/*",
    "*.tflite",
]


@dataclass(frozen=True)
class ModelSource:
    """A model reference resolved to local files.

    Attributes:
        reference: The reference as given (Hub id, alias or path).
        local_dir: The directory holding the model's files.
        hub_id: The Hub repository, when the files came from the Hub.
        commit: The Hub commit hash of those files (``None`` for local directories).
    """

    reference: str
    local_dir: Path
    hub_id: str | None = None
    commit: str | None = None


def resolve_model_source(name_or_path: str, revision: str | None = None) -> ModelSource:
    """Resolve a model reference to local files, downloading a Hub snapshot when needed.

    Args:
        name_or_path: A local directory, the embedded ``sentence-transformers/all-MiniLM-L6-v2``, or a Hub id.
        revision: Hub branch, tag or commit (Hub ids only).

    Raises:
        FileNotFoundError: For a local-looking path that does not exist.
        ValueError: For a ``revision`` given with a local directory.
        OSError: When a Hub id cannot be fetched (offline and not cached, unknown repository, no network).
    """
    resolved = resolve_model_name_or_path(name_or_path)
    if Path(resolved).is_dir():
        if revision is not None:
            raise ValueError(f"revision={revision!r} applies to Hub models only; {name_or_path} is a local directory")
        return ModelSource(name_or_path, Path(resolved))
    from huggingface_hub import snapshot_download

    try:
        local = Path(snapshot_download(resolved, revision=revision, ignore_patterns=_SKIPPED_HUB_FILES))
    except (OSError, ValueError) as err:
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        hint = f"; or {EMBEDDED_MODEL_HINT}" if resolved == DEFAULT_MODEL else ""
        raise OSError(f"cannot load model {resolved!r} from the Hugging Face Hub: {first_line}{hint}") from err
    # The snapshot folder is named after the commit it holds.
    return ModelSource(name_or_path, local, hub_id=resolved, commit=local.name)
