"""Render a :class:`Leaderboard` as Markdown, CSV, LaTeX and HTML (best of each column in bold)."""

from __future__ import annotations

import csv
import html
import io
import math
from collections.abc import Callable

from experiments.report.leaderboard import Leaderboard, LeaderboardRow, Score


def format_score(score: Score, plus_minus: str = "±") -> str:
    """``81.23 ± 0.45`` (``81.23`` for one seed, ``–`` when missing)."""
    if not math.isfinite(score.mean):
        return "–"
    return f"{score.mean:.2f}" if score.std is None else f"{score.mean:.2f} {plus_minus} {score.std:.2f}"


def _header(board: Leaderboard) -> list[str]:
    return ["rank", *board.axes, "seeds", *board.columns]


def _cells(board: Leaderboard, row: LeaderboardRow, plus_minus: str, bold: Callable[[str], str]) -> list[str]:
    scores = [
        bold(format_score(row.scores[c], plus_minus))
        if board.is_best(row, c)
        else format_score(row.scores[c], plus_minus)
        for c in board.columns
    ]
    return [str(row.rank), *(row.configuration.get(a, "") for a in board.axes), str(len(row.seeds)), *scores]


def to_markdown(board: Leaderboard) -> str:
    """A GitHub Markdown table, ranked by ``board.primary``."""
    header = _header(board)
    align = ["---:" if i == 0 or i > len(board.axes) else "---" for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(_cells(board, row, "±", lambda s: f"**{s}**")) + " |" for row in board.rows]
    return "\n".join(lines) + "\n"


def to_csv(board: Leaderboard) -> str:
    """Plain numbers for further analysis: ``<column>_mean``, ``<column>_std``, ``<column>_best``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        ["rank", *board.axes, "seeds", *(f"{c}_{part}" for c in board.columns for part in ("mean", "std", "best"))]
    )
    for row in board.rows:
        values = []
        for column in board.columns:
            score = row.scores[column]
            values += [
                "" if not math.isfinite(score.mean) else f"{score.mean:.4f}",
                "" if score.std is None else f"{score.std:.4f}",
                int(board.is_best(row, column)),
            ]
        seeds = " ".join(str(s) for s in row.seeds)
        writer.writerow([row.rank, *(row.configuration.get(a, "") for a in board.axes), seeds, *values])
    return buffer.getvalue()


_LATEX_SPECIAL = {c: "\\" + c for c in "&%$#_{}"}


def _latex_escape(text: str) -> str:
    return "".join(_LATEX_SPECIAL.get(c, c) for c in text)


def to_latex(board: Leaderboard) -> str:
    """A ``booktabs`` tabular."""
    header = _header(board)
    spec = "r" + "l" * len(board.axes) + "r" * (len(header) - 1 - len(board.axes))
    lines = [
        f"\\begin{{tabular}}{{{spec}}}",
        "\\toprule",
        " & ".join(_latex_escape(h) for h in header) + " \\\\",
        "\\midrule",
    ]
    for row in board.rows:
        cells = _cells(board, row, "$\\pm$", lambda s: f"\\textbf{{{s}}}")
        lines.append(" & ".join(_latex_escape(c) if i <= len(board.axes) else c for i, c in enumerate(cells)) + " \\\\")
    lines += ["\\bottomrule", "\\end{tabular}"]
    return "\n".join(lines) + "\n"


def to_html(board: Leaderboard, title: str) -> str:
    """A standalone HTML page with the table."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in _header(board))
    body = []
    for row in board.rows:
        cells = _cells(board, row, "±", lambda s: f"\x00{s}\x01")
        rendered = (html.escape(c).replace("\x00", "<b>").replace("\x01", "</b>") for c in cells)
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in rendered) + "</tr>")
    return (
        f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        "<style>table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}"
        "</style></head><body>\n"
        f"<h1>{html.escape(title)}</h1>\n<p>Ranked by {html.escape(board.primary)}; mean ± std over seeds; "
        "best of each column in bold.</p>\n"
        f"<table><thead><tr>{head}</tr></thead><tbody>\n" + "\n".join(body) + "\n</tbody></table></body></html>\n"
    )
