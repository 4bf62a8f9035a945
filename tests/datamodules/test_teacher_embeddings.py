import numpy as np
import pytest
import torch

from datamodules.teacher_embeddings import CACHE_DIR_ENV, TeacherEmbeddings, default_cache_dir
from lightning_modules.encoders.hf_encoder import HFEncoder

TEXTS = ["A man plays a guitar.", "Two dogs run in a field.", "A man plays a guitar."]


def test_embeddings_are_the_teachers_and_are_computed_once(tiny_model_dir, tmp_path, encode_calls):
    teacher = TeacherEmbeddings(str(tiny_model_dir), str(tmp_path), max_seq_length=32)
    first = teacher.embed(TEXTS)
    expected = HFEncoder(str(tiny_model_dir), max_seq_length=32).eval().encode(TEXTS).numpy()
    np.testing.assert_allclose(first, expected, atol=1e-6)
    assert first.dtype == np.float32 and encode_calls == [3, 3]  # ours, then the reference above

    again = TeacherEmbeddings(str(tiny_model_dir), str(tmp_path), max_seq_length=32).embed(TEXTS)
    assert encode_calls == [3, 3]  # a new instance reads the cache: no teacher call
    np.testing.assert_array_equal(again, first)
    assert [p.name for p in tmp_path.iterdir()] == [teacher.cache_path(TEXTS).name]  # no temporary file left


def test_cache_key_covers_texts_teacher_settings_and_model_files(tiny_model_dir, tmp_path):
    teacher = TeacherEmbeddings(str(tiny_model_dir), str(tmp_path), max_seq_length=32)
    key = teacher.cache_path(TEXTS)
    assert key == TeacherEmbeddings(str(tiny_model_dir), str(tmp_path), max_seq_length=32).cache_path(TEXTS)
    assert teacher.cache_path(TEXTS[:2]) != key
    assert teacher.cache_path(["A man plays a guitar.Two dogs run in a field."]) != teacher.cache_path(TEXTS[:2])
    assert TeacherEmbeddings(str(tiny_model_dir), str(tmp_path), max_seq_length=16).cache_path(TEXTS) != key
    copy = tmp_path / "copy"
    copy.mkdir()
    for file in tiny_model_dir.iterdir():
        (copy / file.name).write_bytes(file.read_bytes())
    changed = TeacherEmbeddings(str(copy), str(tmp_path), max_seq_length=32)
    before = changed.cache_path(TEXTS)
    torch.save({}, copy / "extra.bin")  # a model directory that changed gets a new key
    assert changed.cache_path(TEXTS) != before


def test_default_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path))
    assert default_cache_dir() == tmp_path / "teacher_embeddings"
    assert TeacherEmbeddings(cache_dir=None).cache_dir == tmp_path / "teacher_embeddings"


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError, match="batch_size=0"):
        TeacherEmbeddings(batch_size=0)
