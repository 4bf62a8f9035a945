import pytest

from experiments.tune.study_spec import STUDIES_DIR, StudySpec, resolve_study_path
from tests.experiments.tune.study_specs import write_study


def test_a_spec_reads_its_losses_budget_search_and_final_stage(tmp_path):
    spec = StudySpec.from_yaml(write_study(tmp_path, pruner={"name": "median", "n_startup_trials": 1}))
    assert [loss.label for loss in spec.losses] == ["batch_hard", "soft_margin"]
    assert spec.trials_per_loss == 2 and spec.seeds == (1,) and spec.sampler == "tpe"
    assert spec.pruner == "median" and spec.pruner_args == {"n_startup_trials": 1}
    # The shared space plus each loss's own parameters.
    assert [p.key for p in spec.search_space(spec.losses[0])] == [
        "model.optimizer.init_args.lr",
        "model.loss.init_args.margin",
    ]
    assert [p.key for p in spec.search_space(spec.losses[1])] == ["model.optimizer.init_args.lr"]


def test_a_loss_entry_overrides_a_shared_parameter(tmp_path):
    losses = [
        {
            "label": "a",
            "config": str(STUDIES_DIR.parent / "configs" / "loss" / "cosent.yaml"),
            "search": {"model.optimizer.init_args.lr": {"uniform": [1e-5, 2e-5]}},
        }
    ]
    spec = StudySpec.from_yaml(write_study(tmp_path, losses=losses))
    (parameter,) = spec.search_space(spec.losses[0])
    assert parameter.kind == "uniform" and parameter.values == (1e-5, 2e-5)


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"trials": 3}, r"unknown keys \['trials'\]"),
        ({"trials_per_loss": 0}, "trials_per_loss .*expected a positive integer"),
        ({"losses": []}, "expected a non-empty list of distinct labels"),
        ({"sampler": {"name": "grid"}}, "sampler: .*expected a mapping with name: one of"),
        ({"pruner": {"name": "median", "patience": 2}}, r"pruner median accepts \['n_startup_trials', 'n_warm"),
        ({"seeds": [1, 1]}, "expected a non-empty list of distinct integers"),
        ({"primary_metric": "STSBenchmark"}, "expected 'average' or one of"),
        ({"storage": "redis"}, "expected sqlite or journal"),
    ],
)
def test_bad_specs_are_refused_with_one_line(tmp_path, changes, match):
    with pytest.raises(ValueError, match=match) as info:
        StudySpec.from_yaml(write_study(tmp_path, **changes))
    assert "\n" not in str(info.value)


def test_built_in_studies_resolve_by_name_and_parse():
    names = sorted(path.stem for path in STUDIES_DIR.glob("*.yaml"))
    assert {"triplet_variants_tuned", "sts_pair_losses_tuned", "metric_learning_losses"} <= set(names)
    for name in names:
        spec = StudySpec.from_yaml(resolve_study_path(name))
        assert spec.name == name and spec.trials_per_loss >= 8 and len(spec.seeds) == 5
    with pytest.raises(ValueError, match="no built-in study of that name"):
        resolve_study_path("no_such_study")
