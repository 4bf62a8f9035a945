"""Read CSV / TSV / JSONL / Parquet files into string-preserving DataFrames."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from datamodules.errors import DataValidationError

SUPPORTED_SUFFIXES: tuple[str, ...] = (".csv", ".tsv", ".jsonl", ".parquet")


def _decode_utf8(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise DataValidationError(
            f"{path}, line {line}: not valid UTF-8 (byte 0x{data[err.start]:02x} at offset {err.start}); "
            "re-encode the file as UTF-8"
        ) from None


def read_table(path: Path) -> pd.DataFrame:
    """Read a data file with a header; CSV/TSV cells stay strings (``"NA"`` is a sentence, not a NaN).

    Args:
        path: A ``.csv``, ``.tsv`` (no quoting), ``.jsonl`` (one JSON object per line) or ``.parquet`` file.

    Returns:
        One row per data row, columns as in the file.

    Raises:
        DataValidationError: If the file is missing, not UTF-8, unparsable or of an unknown type.
    """
    if not path.is_file():
        raise DataValidationError(f"{path}: file not found")
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DataValidationError(f"{path}: unsupported file type {suffix!r}; expected one of {SUPPORTED_SUFFIXES}")
    try:
        if suffix == ".parquet":
            return pd.read_parquet(path)
        text = _decode_utf8(path)
        if suffix == ".jsonl":
            return pd.read_json(io.StringIO(text), lines=True, dtype=False)
        sep, quoting = ("\t", csv.QUOTE_NONE) if suffix == ".tsv" else (",", csv.QUOTE_MINIMAL)
        return pd.read_csv(io.StringIO(text), sep=sep, quoting=quoting, dtype=str, keep_default_na=False)
    except DataValidationError:
        raise
    except (ValueError, pd.errors.ParserError, OSError) as err:
        raise DataValidationError(f"{path}: cannot be parsed as {suffix[1:]}: {err}") from None
