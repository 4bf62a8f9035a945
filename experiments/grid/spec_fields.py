"""Fields every spec file shares (grids, studies): labels, lists, overrides, config paths, built-in names."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def resolve_named_file(spec: str, builtin_dir: Path, kind: str) -> Path:
    """``spec`` as a file path, else ``<builtin_dir>/<spec>.yaml``.

    Raises:
        ValueError: If neither exists (lists the built-in names).
    """
    path = Path(spec)
    if path.is_file():
        return path
    builtin = builtin_dir / f"{spec}.yaml"
    if builtin.is_file():
        return builtin
    names = sorted(p.stem for p in builtin_dir.glob("*.yaml"))
    raise ValueError(f"{kind} spec {spec!r}: no such file and no built-in {kind} of that name; built-in: {names}")


def as_list(value: Any, what: str) -> list[Any]:
    """``value`` if it is a list."""
    if not isinstance(value, list):
        raise ValueError(f"{what}: expected a list, got {value!r}")
    return value


def as_label(value: Any, what: str) -> str:
    """``value`` if it is a short label (letters, digits, ``.``, ``_``, ``-``)."""
    if not isinstance(value, str) or not _LABEL.match(value):
        raise ValueError(f"{what}={value!r}: expected a short label of letters, digits, '.', '_', '-'")
    return value


def as_overrides(value: Any, what: str) -> dict[str, Any]:
    """A mapping of dotted ``losslab fit`` keys to values (``None``: none)."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise ValueError(f"{what}: expected a mapping of dotted keys to values, got {value!r}")
    return dict(value)


def config_path(spec_path: Path, value: Any) -> Path:
    """A config file named relative to the spec, resolved; it must exist."""
    if not isinstance(value, str):
        raise ValueError(f"{spec_path}: config {value!r}: expected a file path (relative to the spec)")
    path = (spec_path.parent / value).resolve()
    if not path.is_file():
        raise ValueError(f"{spec_path}: config {value!r} not found (looked at {path})")
    return path
