import pandas as pd
import pytest
from mteb.tasks.classification.eng.banking77_classification import Banking77Classification
from mteb.tasks.sts.eng.sickr_sts import SickrSTS
from mteb.tasks.sts.eng.sts_benchmark_sts import STSBenchmarkSTS

from experiments.evaluation.errors import MissingTaskDataError
from experiments.evaluation.local_tasks import (
    LOCAL_TASKS,
    LocalBanking77Classification,
    LocalSickR,
    LocalSTSBenchmark,
    LocalSTSTask,
    read_csv_columns,
)


@pytest.mark.parametrize(
    ("local", "mteb_cls"),
    [
        (LocalSTSBenchmark, STSBenchmarkSTS),
        (LocalSickR, SickrSTS),
        (LocalBanking77Classification, Banking77Classification),
    ],
)
def test_keeps_mteb_metadata(local, mteb_cls):
    assert issubclass(local, mteb_cls)
    assert local.metadata == mteb_cls.metadata


@pytest.mark.parametrize("name", sorted(LOCAL_TASKS))
def test_every_local_task_loads_its_eval_split(name, data_dir):
    task = LOCAL_TASKS[name](data_dir)
    task.load_data()
    for split in task.metadata.eval_splits:
        assert len(task.dataset[split]) > 0


def test_sick_r_is_all_sick_pairs_like_mteb(data_dir):
    task = LocalSickR(data_dir)
    task.load_data()
    expected = pd.concat([pd.read_csv(data_dir / "sick" / f"{s}.csv") for s in ("train", "trial", "test")])
    assert len(task.dataset["test"]) == len(expected) == 9927
    assert task.dataset["test"]["score"] == pytest.approx(expected["score"].tolist())


def test_sts_benchmark_is_the_test_split(data_dir):
    task = LocalSTSBenchmark(data_dir)
    task.load_data()
    expected = pd.read_csv(data_dir / "stsb" / "test.csv", keep_default_na=False)
    assert task.dataset["test"]["sentence1"] == expected["sentence1"].tolist()
    assert len(expected) == 1379


def test_banking77_label_ids_follow_labels_txt(data_dir):
    task = LocalBanking77Classification(data_dir)
    task.load_data()
    names = (data_dir / "banking77" / "labels.txt").read_text().split()
    raw = pd.read_csv(data_dir / "banking77" / "test.csv")
    assert [names[i] for i in task.dataset["test"]["label"][:50]] == raw["label"].tolist()[:50]


def test_generic_sts_csv(sts_csv):
    task = LocalSTSTask(sts_csv)
    task.load_data()
    assert task.metadata.name == "LocalSTS-tiny_sts"
    assert len(task.dataset["test"]) == 12


def test_missing_files_are_listed(tmp_path):
    assert LocalSickR.missing_files(tmp_path) == [tmp_path / "sick" / f"{s}.csv" for s in ("train", "trial", "test")]
    with pytest.raises(MissingTaskDataError, match="stsb/test.csv"):
        LocalSTSBenchmark(tmp_path).load_data()


def test_missing_column_is_named(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("sentence1,score\na,1\n")
    with pytest.raises(ValueError, match="sentence2"):
        read_csv_columns(path, ("sentence1", "sentence2", "score"))
