import numpy as np
import pytest
import torch
from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer.evaluation import BinaryClassificationEvaluator
from sklearn.metrics import f1_score

from lightning_modules.evaluators import BinaryPairEvaluator


class _FixedEmbeddings(SentenceTransformer):
    """A "model" whose encode returns given vectors per text: ST's evaluator then scores exactly our data."""

    def __init__(self, vectors: dict[str, np.ndarray]) -> None:
        torch.nn.Module.__init__(self)
        self.vectors = vectors

    def encode(self, sentences, **kwargs):  # type: ignore[override]
        return np.stack([self.vectors[s] for s in sentences])


def _sentence_transformers_reference(x1: torch.Tensor, x2: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
    left = [f"a{i}" for i in range(len(x1))]
    right = [f"b{i}" for i in range(len(x2))]
    vectors = {**dict(zip(left, x1.numpy(), strict=True)), **dict(zip(right, x2.numpy(), strict=True))}
    evaluator = BinaryClassificationEvaluator(left, right, labels.tolist(), similarity_fn_names=["cosine"])
    return evaluator.compute_metrics(_FixedEmbeddings(vectors))["cosine"]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_sentence_transformers_binary_classification_evaluator(seed):
    gen = torch.Generator().manual_seed(seed)
    x1, x2 = torch.randn(60, 5, generator=gen), torch.randn(60, 5, generator=gen)
    labels = (torch.rand(60, generator=gen) < 0.4).long()
    metrics = BinaryPairEvaluator()([x1, x2], labels)
    reference = _sentence_transformers_reference(x1, x2, labels)
    # Both score float32 cosines; the AP and best F1 are then the same numbers up to float64 summation order.
    assert metrics["pair_ap"] == pytest.approx(100 * reference["ap"], abs=1e-9)
    assert metrics["pair_f1"] == pytest.approx(100 * reference["f1"], abs=1e-9)
    # Our threshold is a score of the data (predict positive at >= it); it must give the reported F1.
    scores = torch.nn.functional.cosine_similarity(x1, x2).numpy()
    assert 100 * f1_score(labels.numpy(), scores >= metrics["pair_f1_threshold"]) == pytest.approx(metrics["pair_f1"])


def test_tied_scores_match_sentence_transformers():
    # pairs 0-2 share one score, pairs 3-5 another
    x1 = torch.tensor([[1.0, 0.0]] * 6)
    x2 = torch.tensor([[1.0, 0.0]] * 3 + [[0.0, 1.0]] * 3)
    labels = torch.tensor([1, 0, 1, 1, 0, 0])
    metrics = BinaryPairEvaluator()([x1, x2], labels)
    reference = _sentence_transformers_reference(x1, x2, labels)
    assert metrics["pair_ap"] == pytest.approx(100 * reference["ap"])
    assert metrics["pair_f1"] == pytest.approx(100 * reference["f1"])
    assert metrics["pair_f1_threshold"] == pytest.approx(1.0)


def test_needs_a_positive():
    with pytest.raises(ValueError, match="at least one positive"):
        BinaryPairEvaluator()([torch.randn(4, 3), torch.randn(4, 3)], torch.zeros(4))
