from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from experiments.report.statistics import (
    combine_p,
    holm,
    paired_seed_p,
    scores_by_seed,
    summarize,
    t_interval,
    with_average,
)

# Student (1908) / Cushny & Peebles: extra hours of sleep under two drugs, the same ten patients.
# R's t.test(extra ~ group, data = sleep, paired = TRUE): t = -4.0621, df = 9, p-value = 0.002833.
SLEEP_DRUG_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
SLEEP_DRUG_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]


def table(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["loss", "seed", "task", "score"])
    frame["seed"] = frame["seed"].astype("Int64")
    return frame


def test_t_interval_of_a_textbook_sample() -> None:
    # Mean 8, s = sqrt(5), s/sqrt(5) = 1, and the t table's t_{0.975, 4} = 2.776: 8 -/+ 2.776.
    low, high = t_interval([5, 7, 8, 9, 11])
    assert (round(low, 3), round(high, 3)) == (5.224, 10.776)
    assert (low, high) == pytest.approx(tuple(stats.ttest_1samp([5, 7, 8, 9, 11], 0.0).confidence_interval()))


@pytest.mark.parametrize(
    ("values", "expected"), [([3.0], None), ([2.5, 2.5, 2.5], (2.5, 2.5))], ids=["one seed", "equal values"]
)
def test_t_interval_edge_cases(values: list[float], expected: tuple | None) -> None:
    assert t_interval(values) == expected


def test_summarize_matches_numpy_and_scipy_and_skips_missing_seeds() -> None:
    values = [80.0, 82.5, float("nan"), 81.0]
    summary = summarize(values, confidence=0.9)
    finite = [80.0, 82.5, 81.0]
    assert (summary.n, summary.mean, summary.std) == (
        3,
        pytest.approx(np.mean(finite)),
        pytest.approx(np.std(finite, ddof=1)),
    )
    expected = stats.t.interval(0.9, df=2, loc=np.mean(finite), scale=stats.sem(finite))
    assert (summary.ci_low, summary.ci_high) == pytest.approx(expected)
    assert summarize([float("nan")]).n == 0


def test_paired_t_test_of_the_sleep_data() -> None:
    seeds = range(10)
    p = paired_seed_p(pd.Series(SLEEP_DRUG_1, index=seeds), pd.Series(SLEEP_DRUG_2, index=seeds))
    assert p == pytest.approx(0.002833, abs=5e-7)
    assert p == pytest.approx(stats.ttest_rel(SLEEP_DRUG_1, SLEEP_DRUG_2).pvalue, rel=1e-12)


def test_paired_test_pairs_by_seed_value_and_uses_shared_seeds_only() -> None:
    best = pd.Series(SLEEP_DRUG_2, index=range(10))
    shuffled = pd.Series(SLEEP_DRUG_1, index=range(10)).sample(frac=1.0, random_state=0)
    extra = pd.concat([shuffled, pd.Series([99.0], index=[42])])  # seed 42 has no partner
    assert paired_seed_p(best, extra) == pytest.approx(stats.ttest_rel(SLEEP_DRUG_2, SLEEP_DRUG_1).pvalue)


@pytest.mark.parametrize(
    ("best", "other", "expected"),
    [
        ({1: 80.0}, {1: 70.0}, None),
        ({1: 80.0, 2: 81.0}, {2: 70.0, 3: 71.0}, None),
        ({1: 80.0, 2: 81.0}, {1: 80.0, 2: 81.0}, 1.0),
        ({1: 80.0, 2: 81.0}, {1: 70.0, 2: 71.0}, 0.0),
    ],
    ids=["one seed", "one shared seed", "bit-identical", "constant difference"],
)
def test_paired_test_edge_cases(best: dict, other: dict, expected: float | None) -> None:
    assert paired_seed_p(pd.Series(best), pd.Series(other)) == expected


def test_holm_on_the_textbook_example() -> None:
    # Holm (1979) as Wikipedia's "Holm-Bonferroni method" works it: p = 0.01, 0.04, 0.03, 0.005 at alpha 0.05;
    # sorted thresholds 0.05/4, 0.05/3, 0.05/2: H4 and H1 are rejected, H3 (0.03 > 0.025) stops the procedure.
    adjusted = holm([0.01, 0.04, 0.03, 0.005])
    assert adjusted == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert [p < 0.05 for p in adjusted] == [True, False, False, True]
    assert holm([]) == []


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_holm_equals_statsmodels(seed: int) -> None:
    raw = np.random.default_rng(seed).uniform(0.0, 0.2, 7).tolist() + [0.9, 0.9]  # ties and adjusted values > 1
    assert holm(raw) == pytest.approx(multipletests(raw, method="holm")[1].tolist(), abs=1e-15)


def test_average_needs_every_task_of_a_seed() -> None:
    frame = table(
        [("a", 1, "T1", 50.0), ("a", 1, "T2", 70.0), ("a", 2, "T1", 54.0), ("baseline", None, "T1", 40.0),
         ("baseline", None, "T2", 60.0)]
    )  # fmt: skip
    averaged = with_average(frame, ["T1", "T2"])
    assert scores_by_seed(averaged, "a", "average").to_dict() == {1: 60.0}
    assert scores_by_seed(averaged, "baseline", "average").tolist() == [50.0]
    assert with_average(frame, []) is frame


def test_combine_p_takes_the_largest_available() -> None:
    assert combine_p([0.01, None, 0.2]) == 0.2
    assert combine_p([None, None]) is None
