"""Data sources: where a DataModule's rows come from (``class_path`` in ``data.source``)."""

from datamodules.sources.data_source import DataSource
from datamodules.sources.file_source import FileSource
from datamodules.sources.hf_dataset_source import HFDatasetSource
from datamodules.sources.local_file_source import LocalFileSource
from datamodules.sources.named_source import NamedSource

__all__ = ["DataSource", "FileSource", "HFDatasetSource", "LocalFileSource", "NamedSource"]
