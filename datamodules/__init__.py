"""DataModules, data sources, batch samplers and conversions.

``EmbeddingDataModule`` composes a data source (``datamodules.sources``), conversion options and batching
options; this package never imports ``lightning_modules`` (models such as a teacher are injected).
"""

from datamodules.batching_options import BatchingOptions
from datamodules.conversion_options import ConversionOptions
from datamodules.embedding_datamodule import EmbeddingDataModule

__all__ = ["BatchingOptions", "ConversionOptions", "EmbeddingDataModule"]
