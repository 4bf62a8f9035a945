import numpy as np
import pytest
import torch

from datamodules.teacher_embeddings import CACHE_DIR_ENV, TeacherEmbeddings, default_cache_dir
from lightning_modules.encoders.hf_encoder import HFEncoder
from lightning_modules.encoders.teacher_encoder import TeacherEncoder

TEXTS = ["A man plays a guitar.", "Two dogs run in a field.", "A man plays a guitar."]


def test_embeddings_are_the_teachers_and_are_computed_once(tiny_model_dir, tmp_path, encode_calls):
    teacher = TeacherEmbeddings(TeacherEncoder(str(tiny_model_dir), max_seq_length=32), str(tmp_path))
    first = teacher.embed(TEXTS)
    expected = HFEncoder(str(tiny_model_dir), max_seq_length=32).eval().encode(TEXTS).numpy()
    np.testing.assert_allclose(first, expected, atol=1e-6)
    assert first.dtype == np.float32 and encode_calls == [3, 3]  # ours, then the reference above

    again = TeacherEmbeddings(TeacherEncoder(str(tiny_model_dir), max_seq_length=32), str(tmp_path)).embed(TEXTS)
    assert encode_calls == [3, 3]  # a new instance reads the cache: no teacher call
    np.testing.assert_array_equal(again, first)
    assert [p.name for p in tmp_path.iterdir()] == [teacher.cache_path(TEXTS).name]  # no temporary file left


def test_cache_key_covers_texts_teacher_settings_and_model_files(tiny_model_dir, tmp_path):
    teacher = TeacherEmbeddings(TeacherEncoder(str(tiny_model_dir), max_seq_length=32), str(tmp_path))
    key = teacher.cache_path(TEXTS)
    same = TeacherEmbeddings(TeacherEncoder(str(tiny_model_dir), max_seq_length=32), str(tmp_path))
    assert key == same.cache_path(TEXTS)
    assert teacher.cache_path(TEXTS[:2]) != key
    assert teacher.cache_path(["A man plays a guitar.Two dogs run in a field."]) != teacher.cache_path(TEXTS[:2])
    shorter = TeacherEmbeddings(TeacherEncoder(str(tiny_model_dir), max_seq_length=16), str(tmp_path))
    assert shorter.cache_path(TEXTS) != key
    copy = tmp_path / "copy"
    copy.mkdir()
    for file in tiny_model_dir.iterdir():
        (copy / file.name).write_bytes(file.read_bytes())
    changed = TeacherEmbeddings(TeacherEncoder(str(copy), max_seq_length=32), str(tmp_path))
    before = changed.cache_path(TEXTS)
    torch.save({}, copy / "extra.bin")  # a model directory that changed gets a new key
    assert changed.cache_path(TEXTS) != before


def test_default_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path))
    assert default_cache_dir() == tmp_path / "teacher_embeddings"
    assert TeacherEmbeddings(TeacherEncoder(), cache_dir=None).cache_dir == tmp_path / "teacher_embeddings"


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError, match="batch_size=0"):
        TeacherEmbeddings(TeacherEncoder(), batch_size=0)
