import math

import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from experiments.tune.search_space import SearchParameter


@pytest.mark.parametrize(
    ("raw", "distribution", "example"),
    [
        ({"log_uniform": [1e-5, 1e-3]}, FloatDistribution(1e-5, 1e-3, log=True), math.sqrt(1e-5 * 1e-3)),
        ({"uniform": [0.1, 2.0]}, FloatDistribution(0.1, 2.0), 1.05),
        ({"int_uniform": [2, 8]}, IntDistribution(2, 8), 5),
        ({"choices": [10, 20, 30]}, CategoricalDistribution([10, 20, 30]), 10),
    ],
)
def test_each_kind_maps_to_its_optuna_distribution(raw, distribution, example):
    parameter = SearchParameter.parse("--model.loss.init_args.x", raw, "spec")
    assert parameter.key == "model.loss.init_args.x"
    assert parameter.distribution == distribution
    assert parameter.example == pytest.approx(example)
    assert distribution._contains(distribution.to_internal_repr(parameter.example))


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        ({"normal": [0, 1]}, "expected a mapping with one of log_uniform"),
        ({"uniform": [1, 2], "choices": [1]}, "expected a mapping with one of"),
        ({"uniform": [2.0, 1.0]}, r"expected low < high"),
        ({"log_uniform": [0.0, 1.0]}, r"expected 0 < low < high"),
        ({"uniform": [1.0]}, r"needs \[low, high\] numbers"),
        ({"int_uniform": [1.5, 3]}, "int_uniform needs integer bounds"),
        ({"choices": []}, "needs a non-empty list"),
        ({"choices": [1, 1]}, "repeat a value"),
    ],
)
def test_bad_entries_are_one_line_naming_the_key(raw, match):
    with pytest.raises(ValueError, match=match) as info:
        SearchParameter.parse("model.optimizer.init_args.lr", raw, "study.yaml: search")
    assert "study.yaml: search: model.optimizer.init_args.lr" in str(info.value)
    assert "\n" not in str(info.value)
