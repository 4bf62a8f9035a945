import logging
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from lightning_utilities.core import rank_zero

from core.batch_formats import BatchFormat
from datamodules.errors import DataValidationError
from datamodules.table_schema import TableSchema

SCORED = TableSchema(BatchFormat.SCORED_PAIR, score_range=(0.0, 5.0))
LABELED = TableSchema(BatchFormat.LABELED)
BINARY = TableSchema(BatchFormat.BINARY_PAIR)


def _write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("schema", "content", "message"),
    [
        (SCORED, "sentence1,score\na,1\n", "column 'sentence2' (field 'sentence2' of scored_pair"),
        (
            SCORED,
            "sentence1,sentence2,score\na,b,1\n ,c,2\n",
            "row 2, column 'sentence1': expected non-empty text",
        ),
        (SCORED, "sentence1,sentence2,score\na,,1\n", "row 1, column 'sentence2': expected non-empty text"),
        (
            SCORED,
            "sentence1,sentence2,score\na,b,1\nc,d,high\n",
            "row 2, column 'score': expected a numeric score, got 'high'",
        ),
        (
            SCORED,
            "sentence1,sentence2,score\na,b,nan\n",
            "row 1, column 'score': expected a finite numeric score",
        ),
        (SCORED, "sentence1,sentence2,score\na,b,\n", "row 1, column 'score': expected a numeric score"),
        (
            SCORED,
            "sentence1,sentence2,score\na,b,5.5\n",
            "row 1, column 'score': expected a score in the declared",
        ),
        (
            BINARY,
            "sentence1,sentence2,label\na,b,1\nc,d,2\n",
            "row 2, column 'label': expected a binary label 0 or 1",
        ),
        (LABELED, "sentence,label\na,x\nb,\n", "row 2, column 'label': expected a class label"),
    ],
)
def test_bad_cells_name_file_row_column_and_expectation(tmp_path, schema, content, message):
    path = _write(tmp_path, content)
    with pytest.raises(DataValidationError, match=re.escape(message)) as info:
        schema.load(path)
    assert str(path) in str(info.value)


def test_missing_column_lists_available_columns(tmp_path):
    path = _write(tmp_path, "text,label\na,x\n")
    with pytest.raises(DataValidationError, match=r"available columns: \['text', 'label'\]"):
        LABELED.load(path)
    assert LABELED.__class__(BatchFormat.LABELED, {"sentence": "text"}).load(path).columns == [["a"]]


def test_unknown_label_against_known_names(tmp_path):
    path = _write(tmp_path, "sentence,label\na,x\nb,z\n")
    with pytest.raises(DataValidationError, match="row 2, column 'label': unknown label 'z'"):
        LABELED.load(path, label_names=["x", "y"])


def test_missing_file(tmp_path):
    with pytest.raises(DataValidationError, match="file not found"):
        SCORED.load(tmp_path / "nope.csv")


def test_invalid_utf8_names_the_line(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("sentence,label\nok,x\ncaf\xe9,y\n".encode("latin-1"))
    with pytest.raises(DataValidationError, match="line 3: not valid UTF-8 \\(byte 0xe9"):
        LABELED.load(path)


def test_unknown_field_in_columns_mapping():
    with pytest.raises(ValueError, match="unknown field\\(s\\) \\['sentence3'\\]"):
        TableSchema(BatchFormat.SCORED_PAIR, {"sentence3": "x"})


@pytest.mark.parametrize("drop", [False, True])
def test_duplicates_are_one_line_with_count_and_can_be_dropped(tmp_path, drop):
    path = _write(tmp_path, "sentence,label\na,x\na,x\na,x\nb,y\n")
    logger = rank_zero.log  # Lightning's rank-zero channel, which prints the DataModule's other notices too
    lines = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())
    logger.addHandler(handler)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a line, not a warning (with its source line under it)
            data = TableSchema(BatchFormat.LABELED, drop_duplicates=drop).load(path)
    finally:
        logger.removeHandler(handler)
    expected = "dropped 2 duplicate rows (drop_duplicates=True)" if drop else "2 duplicate rows kept"
    assert [line for line in lines if "duplicate" in line] == [
        f"{path}: {expected}" + ("" if drop else " (drop_duplicates=True drops them)")
    ]
    assert len(data) == (2 if drop else 4)


def test_cells_stay_text_and_labels_are_encoded(tmp_path):
    path = _write(tmp_path, "sentence,label\nNA,b\nnull,a\n")
    data = LABELED.load(path)
    assert data.columns == [["NA", "null"]]
    assert data.label_names == ["a", "b"]
    assert data.labels.tolist() == [1, 0]


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".parquet"])
def test_all_file_types_read_the_same_rows(tmp_path, suffix):
    frame = pd.DataFrame({"sentence1": ['say "hi"', "b"], "sentence2": ["c", "d"], "score": [1.5, 4.0]})
    path = tmp_path / f"data{suffix}"
    {
        ".csv": lambda: frame.to_csv(path, index=False),
        ".tsv": lambda: path.write_text(
            "sentence1\tsentence2\tscore\n" + "".join(f"{a}\t{b}\t{s}\n" for a, b, s in frame.itertuples(index=False))
        ),
        ".jsonl": lambda: frame.to_json(path, orient="records", lines=True),
        ".parquet": lambda: frame.to_parquet(path),
    }[suffix]()
    data = SCORED.load(path)
    assert data.columns == [frame.sentence1.tolist(), frame.sentence2.tolist()]
    np.testing.assert_allclose(data.labels, frame.score.to_numpy())


MULTI_NEGATIVE = TableSchema(BatchFormat.MULTI_NEGATIVE)


@pytest.mark.parametrize(
    ("header", "columns", "expected"),
    [
        # Numbered negatives are read in order, however many the file has; other columns are ignored.
        ("negative_2,anchor,negative_1,positive,negative_3,note", {}, ["anchor", "positive", "n1", "n2", "n3"]),
        ("anchor,positive,negative", {}, ["anchor", "positive", "n"]),
        ("q,positive,hard,easy", {"anchor": "q", "negative": ["easy", "hard"]}, ["q", "positive", "easy", "hard"]),
        ("anchor,positive,hard", {"negative": "hard"}, ["anchor", "positive", "hard"]),
    ],
)
def test_multi_negative_reads_every_negative_column(tmp_path, header, columns, expected):
    names = header.split(",")
    cell = {"negative": "n", "negative_1": "n1", "negative_2": "n2", "negative_3": "n3"}
    row = [cell.get(name, name) for name in names]
    path = _write(tmp_path, f"{header}\n{','.join(row)}\n")
    data = TableSchema(BatchFormat.MULTI_NEGATIVE, columns).load(path)
    assert [column[0] for column in data.columns] == expected
    assert data[0].texts == tuple(expected) and data.labels is None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "anchor,positive,hard\na,b,c\n",
            "column 'negative_1' (field 'negative' of multi_negative (anchor, positive, negative ...)) not found; "
            "available columns: ['anchor', 'positive', 'hard']; map it with columns={'negative': ['<column>', ...]}",
        ),
        ("anchor,positive,negative_1,negative_2\na,b,c,d\ne,f,g,\n", "row 2, column 'negative_2': expected non-empty"),
    ],
)
def test_multi_negative_errors(tmp_path, content, message):
    with pytest.raises(DataValidationError, match=re.escape(message)):
        MULTI_NEGATIVE.load(_write(tmp_path, content))


@pytest.mark.parametrize(
    ("fmt", "columns", "message"),
    [
        (BatchFormat.TRIPLET, {"negative": ["a", "b"]}, "field 'negative' maps to ['a', 'b']; expected a column"),
        (BatchFormat.MULTI_NEGATIVE, {"anchor": ["a"]}, "field 'anchor' maps to ['a']; expected a column"),
        (BatchFormat.MULTI_NEGATIVE, {"negative": []}, "expected a column name or a non-empty list of them"),
    ],
)
def test_only_the_repeating_field_maps_to_a_list(fmt, columns, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        TableSchema(fmt, columns)


@pytest.mark.parametrize(
    ("schema", "content", "message"),
    [
        (LABELED, '{"sentence": "hello", "label": "a"}\n{"sentence": 42, "label": "b"}\n', "row 2, column 'sentence'"),
        (
            SCORED,
            '{"sentence1": "a", "sentence2": "b", "score": 1.5}\n{"sentence1": "c", "sentence2": "d", "score": "x"}\n',
            "row 2, column 'score': expected a numeric score",
        ),
    ],
    ids=["number-in-text-column", "text-in-score-column"],
)
def test_mixed_types_in_a_column(tmp_path, schema, content, message):
    path = _write(tmp_path, content, name="data.jsonl")
    with pytest.raises(DataValidationError, match=re.escape(message)):
        schema.load(path)
