"""Build an EmbeddingDataModule from flat keyword options, as the tests have always written them.

Each option goes to the group that owns it: the source's constructor, ``BatchingOptions``,
``ConversionOptions`` (``conversion=`` is its ``name``) or the DataModule itself.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

from datamodules import BatchingOptions, ConversionOptions, EmbeddingDataModule
from datamodules.sources import HFDatasetSource, LocalFileSource, NamedSource

_BATCHING = {f.name for f in dataclasses.fields(BatchingOptions)}
_CONVERSION = {f.name for f in dataclasses.fields(ConversionOptions)} - {"name"} | {"conversion"}


def _build(source_class: type, *args: Any, **options: Any) -> EmbeddingDataModule:
    source_args = set(inspect.signature(source_class).parameters)
    source = {k: options.pop(k) for k in list(options) if k in source_args}
    batching = {k: options.pop(k) for k in list(options) if k in _BATCHING}
    conversion = {("name" if k == "conversion" else k): options.pop(k) for k in list(options) if k in _CONVERSION}
    return EmbeddingDataModule(
        source_class(*args, **source),
        batching=BatchingOptions(**batching),
        conversion=ConversionOptions(**conversion),
        **options,
    )


def named_datamodule(name: str, **options: Any) -> EmbeddingDataModule:
    """A DataModule over a built-in dataset."""
    return _build(NamedSource, name, **options)


def local_file_datamodule(train_file: str, format: str, **options: Any) -> EmbeddingDataModule:
    """A DataModule over local files."""
    return _build(LocalFileSource, train_file, format, **options)


def hf_dataset_datamodule(path: str, format: str, **options: Any) -> EmbeddingDataModule:
    """A DataModule over a Hugging Face dataset."""
    return _build(HFDatasetSource, path, format, **options)
