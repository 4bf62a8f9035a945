from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from experiments.report.pair_bootstrap import (
    _counts,
    _TieGroups,
    _weighted_spearman_x100,
    centred_bootstrap_p,
    pair_bootstrap,
)
from experiments.report.pair_scores import TaskPairs
from tests.experiments.report.run_fixtures import noisy_cosines, sts_pairs

N_RESAMPLES = 400  # enough to separate the cases below by orders of magnitude; seeded, so never flaky


@pytest.fixture
def gold() -> np.ndarray:
    return sts_pairs(np.random.default_rng(0), 80)


def test_resample_spearman_equals_scipy_on_explicit_resamples(gold: np.ndarray) -> None:
    rng = np.random.default_rng(1)
    cosine = np.round(noisy_cosines(gold, 0.2, rng), 1)  # ties in both arrays
    indices = rng.integers(0, len(gold), (6, len(gold)))
    counts = _counts(indices, len(gold))
    ours = _weighted_spearman_x100(_TieGroups(gold).ranks(counts), _TieGroups(cosine).ranks(counts), counts)
    expected = [100 * stats.spearmanr(gold[i], cosine[i]).statistic for i in indices]
    assert ours == pytest.approx(expected, abs=1e-9)


def test_one_loss_interval_equals_scipy_bootstrap_of_spearman(gold: np.ndarray) -> None:
    cosine = noisy_cosines(gold, 0.2, np.random.default_rng(2))
    (result,) = pair_bootstrap(TaskPairs("T", gold, {"a": [cosine]}), "a", [], n_resamples=N_RESAMPLES).values()

    def spearman(g: np.ndarray, c: np.ndarray) -> float:
        return 100 * stats.spearmanr(g, c).statistic

    reference = stats.bootstrap(
        (gold, cosine), spearman, paired=True, vectorized=False, n_resamples=N_RESAMPLES, method="percentile",
        rng=np.random.default_rng(0),
    ).confidence_interval  # fmt: skip
    assert (result.ci_low, result.ci_high) == pytest.approx((reference.low, reference.high), abs=1e-9)
    assert result.p_vs_best is None


def test_seeds_of_a_loss_are_resampled_jointly(gold: np.ndarray) -> None:
    cosine = noisy_cosines(gold, 0.2, np.random.default_rng(3))
    one = pair_bootstrap(TaskPairs("T", gold, {"a": [cosine]}), None, [], n_resamples=N_RESAMPLES)["a"]
    # Two seeds with identical cosines: under joint resampling their mean is the one seed's Spearman on every
    # resample (independent resampling of each seed would narrow the interval).
    two = pair_bootstrap(TaskPairs("T", gold, {"a": [cosine, cosine.copy()]}), None, [], n_resamples=N_RESAMPLES)["a"]
    assert (two.ci_low, two.ci_high) == pytest.approx((one.ci_low, one.ci_high), abs=1e-9)


def test_paired_comparison_on_the_same_resampled_pairs(gold: np.ndarray) -> None:
    rng = np.random.default_rng(4)
    good = [noisy_cosines(gold, 0.1, rng) for _ in range(2)]
    cosines = {"good": good, "copy": [c.copy() for c in good], "bad": [noisy_cosines(gold, 0.6, rng) for _ in range(2)]}
    result = pair_bootstrap(TaskPairs("T", gold, cosines), "good", ["copy", "bad"], n_resamples=N_RESAMPLES)
    assert result["good"].p_vs_best is None
    assert result["copy"].p_vs_best == 1.0  # differences are 0 on every resample: only paired resampling does that
    assert result["bad"].p_vs_best == pytest.approx(1 / (N_RESAMPLES + 1))
    for stat, cosine in ((result["good"], good), (result["bad"], cosines["bad"])):
        point = np.mean([100 * stats.spearmanr(gold, c).statistic for c in cosine])
        assert stat.ci_low < point < stat.ci_high


def test_losses_without_pairs_and_a_missing_best_are_not_tested(gold: np.ndarray) -> None:
    cosine = noisy_cosines(gold, 0.2, np.random.default_rng(5))
    result = pair_bootstrap(TaskPairs("T", gold, {"a": [cosine]}), "elsewhere", ["a", "b"], n_resamples=20)
    assert set(result) == {"a"} and result["a"].p_vs_best is None


@pytest.mark.parametrize(
    ("estimate", "distribution", "expected"),
    [(1.0, [0.0, 1.0, 2.0, 3.0], 4 / 5), (2.0, [1.9, 2.0, 2.1, 2.2], 1 / 5), (0.0, [0.0, 0.0], 1.0)],
)
def test_centred_bootstrap_p(estimate: float, distribution: list[float], expected: float) -> None:
    # |d* - d| >= |d|: (1) 3 of 4 resamples; (2) none; (3) all (no difference at all).
    assert centred_bootstrap_p(estimate, np.array(distribution)) == pytest.approx(expected)
