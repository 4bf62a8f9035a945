import pytest

from experiments.tune.study_preflight import preflight
from experiments.tune.study_spec import StudySpec
from tests.experiments.tune.study_specs import write_study


def test_preflight_finds_each_loss_objective_and_direction(tmp_path, tiny_model_dir, data_dir):
    spec = StudySpec.from_yaml(write_study(tmp_path))
    plans = preflight(spec, ["--model.encoder.init_args.model_name_or_path", str(tiny_model_dir)])
    assert [(p.label, p.loss, p.dataset) for p in plans] == [
        ("batch_hard", "BatchHardTripletLoss", "banking77"),
        ("soft_margin", "BatchHardSoftMarginTripletLoss", "banking77"),
    ]
    assert {(p.objective, p.higher_is_better) for p in plans} == {("val/knn_accuracy", True)}


def test_an_argument_the_loss_lacks_names_the_loss_and_its_arguments(tmp_path):
    spec = StudySpec.from_yaml(write_study(tmp_path, search={"model.loss.init_args.margin": {"uniform": [0.1, 1]}}))
    with pytest.raises(ValueError) as info:
        preflight(spec)
    message = str(info.value)
    assert "loss soft_margin (BatchHardSoftMarginTripletLoss) has no argument 'margin'" in message
    assert "its arguments: distance_metric, gather_across_devices" in message and "\n" not in message


@pytest.mark.parametrize(
    ("objective", "match"),
    [
        ("test/mteb/Banking77Classification", "is not a validation metric: the search may only see validation data"),
        ("mteb/STSBenchmark", "is not a validation metric"),
        ("val/triplet_accuracy", "optimises the data's primary validation metric, val/knn_accuracy"),
    ],
)
def test_an_objective_other_than_the_validation_metric_is_refused(tmp_path, objective, match):
    spec = StudySpec.from_yaml(write_study(tmp_path, objective=objective))
    with pytest.raises(ValueError, match=match):
        preflight(spec)


def test_a_loss_that_cannot_train_on_the_data_is_refused_by_label(tmp_path):
    spec = StudySpec.from_yaml(write_study(tmp_path))
    with pytest.raises(ValueError, match="loss batch_hard: .*BatchHardTripletLoss cannot train on scored_pair"):
        preflight(spec, ["--data.source.init_args.name", "stsb"])
