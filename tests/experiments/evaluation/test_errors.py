import inspect

import pytest

from experiments.evaluation import errors
from experiments.evaluation.eval_command import EvaluationInputError, evaluate_model

ERRORS = [cls for _, cls in inspect.getmembers(errors, inspect.isclass) if cls is not EvaluationInputError]


@pytest.mark.parametrize("cls", ERRORS, ids=lambda c: c.__name__)
def test_every_error_is_one_catchable_input_error_and_a_builtin(cls):
    assert issubclass(cls, EvaluationInputError)
    assert issubclass(cls, (ValueError, FileNotFoundError, FileExistsError))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"precision": "fp8"}, "precision"), ({"batch_size": 0}, "batch_size"), ({"source": "web"}, "source")],
)
def test_bad_arguments_are_input_errors(kwargs, message):
    with pytest.raises(EvaluationInputError, match=message):
        evaluate_model("unused", ["STSBenchmark"], **kwargs)
