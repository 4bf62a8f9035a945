import pytest
import torch

from core.batch_formats import BatchFormat
from lightning_modules.evaluators import EVALUATORS, evaluator_for


@pytest.mark.parametrize("cls", EVALUATORS, ids=lambda c: c.__name__)
def test_declaration(cls):
    assert cls.formats and cls.primary_metric
    assert isinstance(cls.higher_is_better, bool)
    for fmt in cls.formats:
        assert isinstance(evaluator_for(fmt), cls)


def test_formats_are_not_claimed_twice():
    claimed = [fmt for cls in EVALUATORS for fmt in cls.formats]
    assert len(claimed) == len(set(claimed))


def _random_inputs(fmt: BatchFormat, n: int = 24, dim: int = 8):
    gen = torch.Generator().manual_seed(0)
    embeddings = [torch.randn(n, dim, generator=gen) for _ in fmt.columns]
    labels = {
        "class_id": torch.arange(n) % 3,
        "score": torch.rand(n, generator=gen) * 5,
        "binary": torch.arange(n) % 2,
        "none": None,
    }[fmt.label_kind.value]
    return embeddings, labels


@pytest.mark.parametrize("fmt", [f for cls in EVALUATORS for f in cls.formats], ids=lambda f: f.value)
def test_primary_metric_is_returned_as_float(fmt):
    evaluator = evaluator_for(fmt)
    metrics = evaluator(*_random_inputs(fmt))
    assert isinstance(metrics[evaluator.primary_metric], float)
    assert all(isinstance(v, float) for v in metrics.values())


def test_unknown_format_names_the_evaluable_ones():
    with pytest.raises(ValueError, match="evaluable formats"):
        evaluator_for(BatchFormat.DISTILLATION)
