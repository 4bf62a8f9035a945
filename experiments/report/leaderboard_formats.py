"""Render a :class:`Leaderboard` as Markdown, CSV (long, every statistic), LaTeX and HTML.

Bold marks the best mean of a column and every loss not significantly worse than it; ``†`` marks a loss that
could not be tested (fewer than two shared seeds and no per-pair files).
"""

from __future__ import annotations

import csv
import html
import io
import math
from collections.abc import Callable

from experiments.report.leaderboard import Cell, Leaderboard, LeaderboardRow
from experiments.report.statistics import SeedSummary

UNTESTED = "†"
BASELINE_LABEL = "baseline (untouched encoder)"
COST_HEADERS = {"wall_time_s": "wall time (s)", "global_step": "steps", "peak_memory_mb": "peak memory (MB)"}
Emphasis = Callable[[str], str]
Link = Callable[[str, str], str]  # (run directory, file in it) -> rendered link


def _number(value: float | None, digits: int = 2) -> str:
    return "–" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


def format_cell(cell: Cell, bold: Emphasis, baseline: bool = False) -> str:
    """``**81.50** [79.20, 83.80]; pairs [80.10, 82.90]`` (``–`` when missing)."""
    seeds = cell.seeds
    if not math.isfinite(seeds.mean):
        return "–"
    text = bold(_number(seeds.mean)) if cell.tied_with_best and not baseline else _number(seeds.mean)
    if cell.tied_with_best is None and not baseline:
        text += UNTESTED
    if seeds.ci_low is not None:
        text += f" [{_number(seeds.ci_low)}, {_number(seeds.ci_high)}]"
    if cell.pairs is not None:
        text += f"; pairs [{_number(cell.pairs.ci_low)}, {_number(cell.pairs.ci_high)}]"
    return text


def format_p(cell: Cell) -> str:
    """The Holm-adjusted p-value against the best: ``best``, ``0.034``, ``<0.001``, or ``–`` (not tested)."""
    if cell.is_best:
        return "best"
    if cell.p_holm is None:
        return "–"
    return "<0.001" if cell.p_holm < 0.001 else f"{cell.p_holm:.3f}"


def _cost(summary: SeedSummary | None) -> str:
    return "–" if summary is None or summary.n == 0 else _number(summary.mean, 0)


def _label(row: LeaderboardRow, board: Leaderboard) -> str:
    return BASELINE_LABEL if row is board.baseline else row.loss


def _all_rows(board: Leaderboard) -> list[LeaderboardRow]:
    return [*board.rows, *([board.baseline] if board.baseline is not None else [])]


def header(board: Leaderboard, links: bool = True) -> list[str]:
    """Column headers of the rendered table."""
    costs = [COST_HEADERS[c] for c in board.cost_columns] + (["trials"] if board.trials else [])
    return ["rank", "loss", "seeds", *board.columns, *costs, *(["config"] if links else [])]


def cells(board: Leaderboard, row: LeaderboardRow, bold: Emphasis, link: Link | None = None) -> list[str]:
    """One rendered row; ``link(run_dir, file)`` renders each run's config link (the baseline: its scores)."""
    baseline = row is board.baseline
    values = [
        "–" if row.rank is None else str(row.rank),
        _label(row, board),
        "–" if baseline else str(len(row.seeds)),
        *(format_cell(row.cells[c], bold, baseline) for c in board.columns),
        *(_cost(row.costs.get(c)) for c in board.cost_columns),
        *([str(board.trials.get(row.loss, "–"))] if board.trials else []),
    ]
    if link is not None:
        values.append(" ".join(link(path, "metrics.json" if baseline else "config.yaml") for path in row.run_dirs))
    return values


def legend(board: Leaderboard) -> str:
    """What the cells, marks and ranks mean (one paragraph)."""
    level = round(100 * board.confidence)
    pairs = (
        f" {', '.join(board.pair_tasks)}: also the {level}% percentile bootstrap interval over test pairs "
        f"({board.bootstrap.n_resamples} resamples, seed {board.bootstrap.seed}; pairs resampled jointly across "
        "all seeds and losses)."
        if board.pair_tasks
        else ""
    )
    return (
        f"Ranked by {board.primary}. Cells: mean over seeds [{level}% t-interval over seeds].{pairs} "
        f"**Bold**: the best mean and every loss not significantly worse than it: two-sided paired tests against "
        f"the best (t-test over shared seeds; paired bootstrap over test pairs where per-pair files exist; a "
        f"loss is worse only if every available test says so), Holm-corrected over each column, "
        f"alpha = {board.alpha}. {UNTESTED}: not testable (fewer than two shared seeds, no per-pair files). "
        "Rank 1: the best and every loss tied with it; the others follow by mean (equal means share a rank)."
    )


def dirty_warning(board: Leaderboard) -> str | None:
    """The warning shown when runs were made on a dirty working tree (``None`` when every run is clean)."""
    dirty = sum(row.dirty_runs for row in _all_rows(board))
    if not dirty:
        return None
    total = sum(len(row.run_dirs) for row in _all_rows(board))
    return (
        f"WARNING: {dirty} of {total} runs were made on a dirty working tree or without a recorded commit: "
        "these numbers may not be reproducible from any commit (see PROVENANCE.md)."
    )


def to_markdown(board: Leaderboard, title: str | None = None) -> str:
    """The leaderboard and the p-value table, as GitHub Markdown."""
    lines = [f"# {title}", ""] if title else []
    warning = dirty_warning(board)
    if warning:
        lines += [f"> **{warning}**", ""]
    lines += [legend(board), ""]
    head = header(board)
    align = ["---" if h in ("loss", "config") else "---:" for h in head]
    lines += ["| " + " | ".join(head) + " |", "|" + "|".join(align) + "|"]
    for row in _all_rows(board):
        rendered = cells(
            board, row, lambda s: f"**{s}**", lambda path, file: f"[{file.partition('.')[0]}]({path}/{file})"
        )
        lines.append("| " + " | ".join(rendered) + " |")
    lines += ["", "p-values against the best of each column (Holm-adjusted; raw values in leaderboard.csv):", ""]
    lines += ["| loss | " + " | ".join(board.columns) + " |", "|---|" + "---:|" * len(board.columns)]
    lines += [
        "| " + " | ".join([row.loss, *(format_p(row.cells[c]) for c in board.columns)]) + " |" for row in board.rows
    ]
    return "\n".join(lines) + "\n"


CSV_COLUMNS = (
    "loss", "rank", "task", "n", "mean", "std", "ci_low", "ci_high", "pairs_ci_low", "pairs_ci_high",
    "p_seeds", "p_pairs", "p_vs_best", "p_holm", "tied_with_best", "is_best", "best", "seeds", "dirty_runs",
    "run_dirs",
)  # fmt: skip


def _plain(value: float | bool | None) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return str(int(value)) if isinstance(value, bool) else f"{value:.10g}"


def to_csv(board: Leaderboard) -> str:
    """Long format: one row per loss and column (tasks, ``average``, validation, ``cost/...``, ``cost/trials``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in _all_rows(board):
        common = [" ".join(str(s) for s in row.seeds), row.dirty_runs, " ".join(row.run_dirs)]
        for column in board.columns:
            cell, seeds = row.cells[column], row.cells[column].seeds
            if seeds.n == 0:
                continue  # no score: the missing row says so
            pairs = cell.pairs
            writer.writerow([
                row.loss, _plain(row.rank), column, seeds.n, _plain(seeds.mean), _plain(seeds.std),
                _plain(seeds.ci_low), _plain(seeds.ci_high), _plain(pairs and pairs.ci_low),
                _plain(pairs and pairs.ci_high), _plain(cell.p_seeds), _plain(cell.p_pairs),
                _plain(cell.p_vs_best), _plain(cell.p_holm), _plain(cell.tied_with_best), _plain(cell.is_best),
                board.best[column] or "", *common,
            ])  # fmt: skip
        costs = {f"cost/{c}": s for c, s in row.costs.items()}
        if row.loss in board.trials:
            costs["cost/trials"] = SeedSummary(1, float(board.trials[row.loss]), None, None, None)
        for column, s in costs.items():
            if s.n:
                values = [s.n, _plain(s.mean), _plain(s.std), _plain(s.ci_low), _plain(s.ci_high)]
                writer.writerow([row.loss, _plain(row.rank), column, *values, *[""] * 9, *common])
    return buffer.getvalue()


_LATEX_SPECIAL = {c: "\\" + c for c in "&%$#_{}"}


def _latex_escape(text: str) -> str:
    return "".join(_LATEX_SPECIAL.get(c, c) for c in text).replace("†", "$^\\dagger$")


def to_latex(board: Leaderboard) -> str:
    """A ``booktabs`` tabular (no config links)."""
    head = header(board, links=False)
    lines = [f"% {dirty_warning(board)}"] if dirty_warning(board) else []
    lines += [
        f"\\begin{{tabular}}{{rl{'r' * (len(head) - 2)}}}",
        "\\toprule",
        " & ".join(_latex_escape(h) for h in head) + " \\\\",
        "\\midrule",
    ]
    for row in _all_rows(board):
        if row is board.baseline:
            lines.append("\\midrule")
        rendered = cells(board, row, lambda s: "\x00" + s + "\x01")
        escaped = (_latex_escape(c).replace("\x00", "\\textbf{").replace("\x01", "}") for c in rendered)
        lines.append(" & ".join(escaped) + " \\\\")
    lines.append("\\bottomrule")
    if dirty_warning(board):
        lines.append(f"\\multicolumn{{{len(head)}}}{{l}}{{\\textbf{{{_latex_escape(dirty_warning(board))}}}}} \\\\")
    lines.append("\\end{tabular}")
    return "\n".join(lines) + "\n"


def to_html(board: Leaderboard, title: str) -> str:
    """A standalone HTML page with the table, the p-value table and the legend."""

    def render(texts: list[str], tag: str = "td") -> str:
        escaped = (html.escape(t).replace("\x00", "<b>").replace("\x01", "</b>") for t in texts)
        return "<tr>" + "".join(f"<{tag}>{t}</{tag}>" for t in escaped) + "</tr>"

    def link(path: str, file: str) -> str:
        return f"\x03{path}/{file}\x04{file.partition('.')[0]}\x05"

    rows = []
    for row in _all_rows(board):
        rendered = render(cells(board, row, lambda s: "\x00" + s + "\x01", link))
        rows.append(rendered.replace("\x03", "<a href='").replace("\x04", "'>").replace("\x05", "</a>"))
    p_rows = [render([row.loss, *(format_p(row.cells[c]) for c in board.columns)]) for row in board.rows]
    warning = dirty_warning(board)
    return (
        f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        "<style>table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}"
        ".warning{color:#b00;font-weight:bold}</style></head><body>\n"
        f"<h1>{html.escape(title)}</h1>\n"
        + (f"<p class='warning'>{html.escape(warning)}</p>\n" if warning else "")
        + f"<p>{html.escape(legend(board)).replace('**Bold**', '<b>Bold</b>')}</p>\n"
        f"<table><thead>{render(header(board), 'th')}</thead><tbody>\n" + "\n".join(rows) + "\n</tbody></table>\n"
        "<p>p-values against the best of each column (Holm-adjusted; raw values in leaderboard.csv):</p>\n"
        f"<table><thead>{render(['loss', *board.columns], 'th')}</thead><tbody>\n"
        + "\n".join(p_rows)
        + "\n</tbody></table></body></html>\n"
    )
