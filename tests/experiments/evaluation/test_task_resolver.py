from pathlib import Path

import pytest
from mteb.tasks.sts.eng.sts_benchmark_sts import STSBenchmarkSTS

from experiments.evaluation.errors import DuplicateTaskError, MissingTaskDataError, UnknownTaskError
from experiments.evaluation.local_tasks import LocalSickR, LocalSTSBenchmark, LocalSTSTask
from experiments.evaluation.task_resolver import resolve_data_dir, resolve_tasks


def test_auto_prefers_local_data(data_dir):
    tasks = resolve_tasks(["STSBenchmark", "SICK-R"], data_dir)
    assert [type(t) for t in tasks] == [LocalSTSBenchmark, LocalSickR]


def test_hub_source_uses_mteb_task(data_dir):
    (task,) = resolve_tasks(["STSBenchmark"], data_dir, source="hub")
    assert type(task) is STSBenchmarkSTS


def test_data_dir_from_environment(monkeypatch, data_dir):
    monkeypatch.setenv("LOSSLAB_DATA_DIR", str(data_dir))
    assert resolve_data_dir(None) == data_dir
    assert type(resolve_tasks(["STSBenchmark"])[0]) is LocalSTSBenchmark


def test_unknown_task_suggests_close_names(data_dir):
    with pytest.raises(UnknownTaskError, match="did you mean STSBenchmark"):
        resolve_tasks(["STSBenchmrk"], data_dir)


def test_missing_local_data_offline_names_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    with pytest.raises(MissingTaskDataError, match=r"sick/train\.csv.*LOSSLAB_DATA_DIR"):
        resolve_tasks(["SICK-R"], tmp_path)


@pytest.mark.parametrize("source", ["local", "hub"])
def test_local_only_task_needs_its_files(tmp_path, source):
    with pytest.raises(MissingTaskDataError, match="msrp/test.csv"):
        resolve_tasks(["MSRPPairClassification"], tmp_path, source=source)


def test_csv_path_is_a_generic_sts_task(sts_csv):
    assert isinstance(resolve_tasks([str(sts_csv)])[0], LocalSTSTask)


@pytest.mark.parametrize(
    ("names", "source", "message"),
    [([], "auto", "at least one task"), (["STSBenchmark"], "web", "source must be")],
)
def test_bad_arguments(names, source, message):
    with pytest.raises(ValueError, match=message):
        resolve_tasks(names, None, source=source)


def _csv(path: Path, rows: int = 4) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["sentence1,sentence2,score"] + [f"s{i} a,s{i} b,{i % 5}" for i in range(rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    ("files", "names"),
    [
        (["a/headlines.csv", "b/headlines.csv"], ["LocalSTS-a-headlines", "LocalSTS-b-headlines"]),
        (["x/a/h.csv", "y/a/h.csv", "z/other.csv"], ["LocalSTS-x-a-h", "LocalSTS-y-a-h", "LocalSTS-other"]),
        (["a/headlines.csv"], ["LocalSTS-headlines"]),
    ],
)
def test_csv_task_names_are_unique(tmp_path, files, names):
    tasks = resolve_tasks([str(_csv(tmp_path / f)) for f in files])
    assert [t.metadata.name for t in tasks] == names


@pytest.mark.parametrize(
    ("tasks", "message"),
    [
        (["a/h.csv", "a/../a/h.csv"], "is given more than once"),
        (["STSBenchmark", "STSBenchmark"], "'STSBenchmark' is given more than once"),
        (["x/b-c.csv", "b/c.csv", "y/c.csv"], "are both named 'LocalSTS-b-c'"),
    ],
    ids=["same-file", "same-task", "clash"],
)
def test_tasks_whose_results_would_overwrite_each_other_are_refused(tmp_path, data_dir, tasks, message):
    given = [str(_csv(tmp_path / t)) if t.endswith(".csv") else t for t in tasks]
    with pytest.raises(DuplicateTaskError, match=message):
        resolve_tasks(given, data_dir)
