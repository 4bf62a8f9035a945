"""Leaderboard plots (matplotlib, Agg backend), each written as PNG and SVG."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers and in tests

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from experiments.report.leaderboard import Leaderboard  # noqa: E402
from experiments.report.per_seed_table import LabelledRun  # noqa: E402
from experiments.report.results_loader import RunResult  # noqa: E402

TRAIN_LOSS = "train/loss"
ColumnSelector = Callable[["RunResult", pd.DataFrame], list[str]]


def save_figure(figure: plt.Figure, stem: Path) -> list[Path]:
    """Write ``figure`` as ``<stem>.png`` and ``<stem>.svg`` and close it."""
    # Not with_suffix: a stem such as "history_lr1.5" has a dot of its own.
    paths = [stem.parent / f"{stem.name}.png", stem.parent / f"{stem.name}.svg"]
    # A fixed id salt and no date in the SVG: a rebuilt report is then byte-identical to the committed one, so its
    # diff shows only what changed (matplotlib otherwise salts element ids with a random uuid and stamps the date).
    with matplotlib.rc_context({"svg.hashsalt": stem.name}):
        for path in paths:
            metadata = {"Date": None} if path.suffix == ".svg" else None
            # "tight" keeps legends placed outside the axes inside the file.
            figure.savefig(path, dpi=120, bbox_inches="tight", metadata=metadata)
    plt.close(figure)
    return paths


def plot_task_bars(board: Leaderboard, stem: Path) -> list[Path]:
    """Grouped bars: one group per score column, one bar per loss (and the baseline), error bars = t-interval."""
    columns = list(board.columns)
    rows = [*board.rows, *([board.baseline] if board.baseline is not None else [])]
    width = 0.8 / len(rows)
    figure, axis = plt.subplots(figsize=(max(6.0, 1.6 * len(columns) + 0.3 * len(rows)), 4.5))
    positions = np.arange(len(columns))
    for i, row in enumerate(rows):
        summaries = [row.cells[c].seeds for c in columns]
        means = np.array([s.mean for s in summaries])
        low = np.array([s.mean - s.ci_low if s.ci_low is not None else 0.0 for s in summaries])
        high = np.array([s.ci_high - s.mean if s.ci_high is not None else 0.0 for s in summaries])
        axis.bar(
            positions + (i - (len(rows) - 1) / 2) * width,
            means,
            width,
            yerr=np.vstack([low, high]),
            capsize=2,
            label=row.loss,
            hatch="//" if row is board.baseline else None,
        )
    axis.set_xticks(positions, columns, rotation=15 if len(columns) > 4 else 0)
    axis.set_ylabel(f"score (mean, {round(100 * board.confidence)}% t-interval over seeds)")
    finite = [r.cells[c].seeds.mean for r in rows for c in columns if math.isfinite(r.cells[c].seeds.mean)]
    if finite:
        # Differences between losses are a few points: start the axis near the lowest bar, not at zero.
        low, high = min(finite), max(finite)
        axis.set_ylim(max(0.0, low - 0.15 * (high - low + 1.0) - 2.0), high + 0.1 * (high - low + 1.0) + 1.0)
    axis.legend(fontsize="small", ncol=2 if len(rows) > 6 else 1, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    axis.set_title(f"scores per task (ranked by {board.primary})")
    figure.tight_layout()
    return save_figure(figure, stem)


def _val_columns(result: RunResult, history: pd.DataFrame) -> list[str]:
    return [result.val_metric] if result.val_metric in history else []


def _loss_columns(result: RunResult, history: pd.DataFrame) -> list[str]:
    return [c for c in history.columns if c == TRAIN_LOSS or c.startswith(TRAIN_LOSS + "/")]


def _mean_curves(runs: Sequence[LabelledRun], select: ColumnSelector) -> dict[str, dict[str, pd.DataFrame]]:
    """Loss -> column -> DataFrame(step -> mean, std over seeds) of the selected history columns."""
    curves: dict[str, dict[str, list[pd.Series]]] = {}
    for run in runs:
        result = run.result
        history = result.history()
        if history is None or "step" not in history:
            continue
        for column in select(result, history):
            series = history[["step", column]].dropna().groupby("step")[column].mean()
            if not series.empty:
                curves.setdefault(run.loss, {}).setdefault(column, []).append(series)
    out: dict[str, dict[str, pd.DataFrame]] = {}
    for name, by_column in curves.items():
        for column, runs in by_column.items():
            frame = pd.concat(runs, axis=1)
            out.setdefault(name, {})[column] = pd.DataFrame(
                {"mean": frame.mean(axis=1), "std": frame.std(axis=1).fillna(0.0)}
            )
    return out


def _plot_curves(curves: dict[str, dict[str, pd.DataFrame]], stem: Path, title: str, smooth: bool) -> list[Path]:
    columns = sorted({column for by_column in curves.values() for column in by_column})
    if not columns:
        return []
    ncols = min(3, len(columns))
    nrows = math.ceil(len(columns) / ncols)
    figure, axes = plt.subplots(nrows, ncols, figsize=(5.0 * ncols, 3.4 * nrows), squeeze=False)
    colors = dict(zip(curves, plt.rcParams["axes.prop_cycle"].by_key()["color"] * 10, strict=False))
    for axis, column in zip(axes.flat, columns, strict=False):
        for name, by_column in curves.items():
            if column not in by_column:
                continue
            frame = by_column[column]
            if smooth:
                # Per-step loss statistics are noisy: a centred rolling mean over ~2% of the steps.
                frame = frame.rolling(max(1, len(frame) // 50), center=True, min_periods=1).mean()
            steps = frame.index.to_numpy()
            axis.plot(steps, frame["mean"], label=name, color=colors[name], marker="." if len(frame) < 20 else None)
            axis.fill_between(
                steps, frame["mean"] - frame["std"], frame["mean"] + frame["std"], color=colors[name], alpha=0.2
            )
        axis.set_title(column, fontsize="medium")
        axis.set_xlabel("step")
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    for axis in list(axes.flat)[len(columns) :]:
        axis.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    figure.legend(handles, labels, fontsize="small", loc="outside lower center", ncol=min(4, len(labels)))
    figure.suptitle(title)
    figure.set_layout_engine("constrained")
    return save_figure(figure, stem)


def plot_validation_curves(runs: Sequence[LabelledRun], stem: Path) -> list[Path]:
    """Each run's validation primary metric over training steps, one line per loss (mean ± std over seeds)."""
    return _plot_curves(_mean_curves(runs, _val_columns), stem, "validation during training", smooth=False)


def plot_loss_statistics(runs: Sequence[LabelledRun], stem: Path) -> list[Path]:
    """``train/loss`` and the loss's own statistics (``train/loss/*``: active fractions, distances...)."""
    return _plot_curves(_mean_curves(runs, _loss_columns), stem, "training loss and loss statistics", smooth=True)
