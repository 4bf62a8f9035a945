from pathlib import Path

import huggingface_hub
import pytest
from huggingface_hub.errors import LocalEntryNotFoundError

from core.model_resolution import embedded_model_path
from lightning_modules.encoders.model_source import resolve_model_source

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def test_local_directories_have_no_commit(tiny_model_dir: Path) -> None:
    source = resolve_model_source(str(tiny_model_dir))
    assert (source.local_dir, source.hub_id, source.commit) == (tiny_model_dir, None, None)
    assert resolve_model_source("sentence-transformers/all-MiniLM-L6-v2").local_dir == embedded_model_path()


def test_hub_id_loads_a_snapshot_and_records_its_commit(tmp_path: Path, monkeypatch) -> None:
    snapshot = tmp_path / "snapshots" / COMMIT
    snapshot.mkdir(parents=True)
    calls = []

    def fake(repo_id, revision=None, **kwargs):
        calls.append((repo_id, revision, kwargs["ignore_patterns"]))
        return str(snapshot)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake)
    source = resolve_model_source("BAAI/bge-small-en-v1.5", revision="v1")
    assert (source.local_dir, source.hub_id, source.commit) == (snapshot, "BAAI/bge-small-en-v1.5", COMMIT)
    assert calls[0][:2] == ("BAAI/bge-small-en-v1.5", "v1")
    assert "*.onnx" in calls[0][2]  # other frameworks' weights are not downloaded


def test_uncached_hub_model_offline_is_one_clear_error(monkeypatch) -> None:
    def offline(repo_id, **kwargs):
        raise LocalEntryNotFoundError("Cannot find an appropriate cached snapshot folder\nmore detail")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", offline)
    with pytest.raises(OSError, match=r"^cannot load model 'org/model' from the Hugging Face Hub: Cannot find") as info:
        resolve_model_source("org/model")
    assert "\n" not in str(info.value)


def test_revision_of_a_local_directory_is_refused(tiny_model_dir: Path) -> None:
    with pytest.raises(ValueError, match="applies to Hub models only"):
        resolve_model_source(str(tiny_model_dir), revision="main")
