"""Statistics over the per-seed table: means, t-intervals over seeds, paired tests, Holm correction.

Pure functions of a long ``pandas`` table with columns ``loss, seed, task, score`` (``per_seed.csv``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from experiments.grid.grid_spec import AVERAGE


@dataclass(frozen=True)
class SeedSummary:
    """One loss on one column, over seeds.

    Args:
        n: Number of seeds with a score.
        mean: Their mean (NaN when ``n == 0``).
        std: Sample standard deviation (``ddof=1``); ``None`` for fewer than two seeds.
        ci_low: Lower end of the t-interval of the mean over seeds; ``None`` for fewer than two seeds.
        ci_high: Upper end.
    """

    n: int
    mean: float
    std: float | None
    ci_low: float | None
    ci_high: float | None


def t_interval(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float] | None:
    """Student's t confidence interval of the mean: ``mean ± t_{(1+c)/2, n-1} · s / √n``.

    Returns:
        ``(low, high)``, ``(mean, mean)`` when all values are equal, ``None`` for fewer than two values.
    """
    x = np.asarray(values, dtype=float)
    if len(x) < 2:
        return None
    mean, sem = float(x.mean()), float(stats.sem(x))
    if sem == 0.0:
        return mean, mean  # scipy's interval with scale 0 is NaN; equal values leave no doubt about the mean
    low, high = stats.t.interval(confidence, df=len(x) - 1, loc=mean, scale=sem)
    return float(low), float(high)


def summarize(values: Sequence[float], confidence: float = 0.95) -> SeedSummary:
    """Mean, sample std and t-interval of the finite values (a seed missing a score does not count)."""
    finite = [float(v) for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return SeedSummary(0, math.nan, None, None, None)
    interval = t_interval(finite, confidence)
    return SeedSummary(
        n=len(finite),
        mean=float(np.mean(finite)),
        std=float(np.std(finite, ddof=1)) if len(finite) > 1 else None,
        ci_low=None if interval is None else interval[0],
        ci_high=None if interval is None else interval[1],
    )


def scores_by_seed(table: pd.DataFrame, loss: str, task: str) -> pd.Series:
    """``seed -> score`` of one loss on one task (or ``average``, see :func:`with_average`)."""
    rows = table[(table["loss"] == loss) & (table["task"] == task)]
    return pd.Series(rows["score"].to_numpy(dtype=float), index=rows["seed"].to_numpy(), name=loss)


def with_average(table: pd.DataFrame, tasks: Sequence[str]) -> pd.DataFrame:
    """Add an ``average`` row per loss and seed that has a score on every one of ``tasks``.

    A seed missing a task gets no average, so averages compare like with like.
    """
    if not tasks:
        return table
    grouped = table[table["task"].isin(tasks)].groupby(["loss", "seed"], dropna=False, sort=False)  # baseline: <NA>
    average = grouped.agg(score=("score", "mean"), tasks=("task", "nunique")).reset_index()
    average = average[average["tasks"] == len(tasks)].drop(columns="tasks").assign(task=AVERAGE)
    return pd.concat([table, average], ignore_index=True)


def paired_seed_p(best: pd.Series, other: pd.Series) -> float | None:
    """Two-sided paired t-test (``scipy.stats.ttest_rel``) over the seeds both have.

    Seeds are shared across losses (the same seed: the same data order and initialisation), so the test pairs
    the runs of one seed.

    Returns:
        The p-value; ``1.0`` when every shared seed has exactly the same score (a bit-identical rerun: no
        evidence of a difference, where the t statistic would be 0/0), ``0.0`` when every shared seed differs by
        exactly the same non-zero amount; ``None`` for fewer than two shared seeds.
    """
    joined = pd.concat([best, other], axis=1, join="inner").dropna()
    if len(joined) < 2:
        return None
    a, b = joined.iloc[:, 0].to_numpy(), joined.iloc[:, 1].to_numpy()
    differences = a - b
    if np.all(differences == 0.0):
        return 1.0
    if np.all(differences == differences[0]):
        return 0.0  # the same non-zero difference on every seed: t is infinite (scipy warns, then says 0)
    return float(stats.ttest_rel(a, b).pvalue)


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values: the i-th smallest becomes ``max_{j<=i} min(1, (m - j + 1) p_(j))``.

    scipy has no Holm correction (``false_discovery_control`` controls the false discovery rate, not the
    family-wise error), and statsmodels' ``multipletests(method="holm")`` runs ``gc.collect()`` on every call
    (~1 s per column in a process holding torch and MTEB): hence these lines; the tests check them against it.
    """
    p = np.asarray(pvalues, dtype=float)
    order = np.argsort(p, kind="stable")
    adjusted = np.empty_like(p)
    adjusted[order] = np.minimum(1.0, np.maximum.accumulate((len(p) - np.arange(len(p))) * p[order]))
    return adjusted.tolist()


def combine_p(pvalues: Sequence[float | None]) -> float | None:
    """The largest of the available p-values (intersection-union: a loss is worse only if every test says so).

    The seed test sees training noise with the test set fixed; the pair bootstrap sees test-set sampling with
    the seeds fixed. Calling a loss worse than the best requires the difference to stand out against both.
    """
    available = [p for p in pvalues if p is not None]
    return max(available) if available else None
