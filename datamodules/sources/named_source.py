"""The built-in datasets of the data directory, by name."""

from __future__ import annotations

from datamodules.dataset_catalog import CATALOG, DatasetName
from datamodules.sources.file_source import FileSource
from datamodules.table_schema import TableSchema


class NamedSource(FileSource):
    """One of the built-in datasets, with its natural format, splits and columns (see ``dataset_catalog``).

    ==============  ===================================  =======================  ==================
    name            training rows (format)               validation               test
    ==============  ===================================  =======================  ==================
    stsb            stsb/train.csv (scored_pair, 0–5)    stsb/dev.csv             stsb/test.csv
    sick            sick/train.csv (scored_pair, 1–5)    sick/trial.csv           sick/test.csv
    trec(_fine)     trec/train.csv (labeled, 6 / 50)     10% stratified of train  trec/test.csv
    banking77       banking77/train.csv (labeled, 77)    10% stratified of train  banking77/test.csv
    msrp            msrp/train.csv (binary_pair)         msrp/val.csv             msrp/test.csv
    snli_pairs      snli/dev.csv (nli: needs conversion) snli/test_triplets.csv   —
    snli_triplets   snli/dev_triplets.csv (triplet)      snli/test_triplets.csv   —
    ==============  ===================================  =======================  ==================

    Args:
        name: The dataset.
        drop_duplicates: Drop exact duplicate rows instead of only warning about them.
        data_dir: The data directory; ``None`` reads ``$LOSSLAB_DATA_DIR``.
    """

    def __init__(self, name: DatasetName, drop_duplicates: bool = False, data_dir: str | None = None) -> None:
        if name not in CATALOG:
            raise ValueError(f"name={name!r} is not a built-in dataset; expected one of {sorted(CATALOG)}")
        spec = CATALOG[name]
        self.name = name
        schema = TableSchema(spec.format, spec.columns, spec.score_range, drop_duplicates)
        val_schema = None if spec.val_format is None else TableSchema(spec.val_format, {}, None, drop_duplicates)
        super().__init__(
            description=name,
            train_file=spec.train_file,
            train_schema=schema,
            val_file=spec.val_file,
            val_schema=val_schema,
            test_file=spec.test_file,
            val_fraction=spec.val_fraction,
            data_dir=data_dir,
        )
