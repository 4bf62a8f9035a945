import json
from pathlib import Path

import pytest

from experiments import atomic_io
from experiments.atomic_io import atomic_write_json, atomic_write_text


def test_write_and_replace(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "metrics.json"
    atomic_write_json(path, {"a": 1})
    atomic_write_json(path, {"a": 2})
    assert json.loads(path.read_text()) == {"a": 2}
    assert [p.name for p in path.parent.iterdir()] == ["metrics.json"]


def test_failed_write_keeps_the_old_file(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "config.yaml"
    atomic_write_text(path, "old")

    def crash(*_):
        raise OSError("crash during rename")

    monkeypatch.setattr(atomic_io.os, "replace", crash)
    with pytest.raises(OSError):
        atomic_write_text(path, "new")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["config.yaml"]
