import pytest
from mteb.tasks.sts.eng.sts_benchmark_sts import STSBenchmarkSTS

from experiments.evaluation.errors import MissingTaskDataError, UnknownTaskError
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
