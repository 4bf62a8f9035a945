from __future__ import annotations

import csv
import io
import re

import pandas as pd
import pytest

from experiments.report.leaderboard import Leaderboard, build_leaderboard
from experiments.report.leaderboard_formats import CSV_COLUMNS, to_csv, to_html, to_latex, to_markdown

SCORES = {"best": [80.0, 81.0, 82.0], "close": [79.5, 81.5, 81.0], "worse": [70.0, 71.2, 71.9], "single": [50.0]}


def frame(dirty: int = 0) -> pd.DataFrame:
    rows = [
        (loss, seed, "T", value, f"../runs/{loss}__seed{seed}", "after", "c0ffee", dirty if loss == "worse" else 0)
        for loss, values in SCORES.items()
        for seed, value in enumerate(values, start=1)
    ]
    rows.append(("baseline", None, "T", 60.0, "../runs/base", "before", "c0ffee", 0))
    rows += [(loss, 1, "cost/wall_time_s", 12.0, f"../runs/{loss}__seed1", "after", "c0ffee", 0) for loss in SCORES]
    table = pd.DataFrame(rows, columns=["loss", "seed", "task", "score", "run_dir", "stage", "git_commit", "git_dirty"])
    return table.astype({"seed": "Int64", "git_dirty": "Int64"})


@pytest.fixture
def board() -> Leaderboard:
    return build_leaderboard(frame(), ["T"], "T", trials={"best": 8, "close": 8, "worse": 8, "single": 3})


def test_markdown_bolds_the_losses_tied_with_the_best_and_daggers_the_untested(board: Leaderboard) -> None:
    lines = to_markdown(board, "g: leaderboard").splitlines()
    table = [line for line in lines if line.startswith("| ")]
    assert table[0] == "| rank | loss | seeds | T | average | wall time (s) | trials | config |"
    assert table[1].startswith("| 1 | best | 3 | **81.00** [78.52, 83.48] | **81.00** [78.52, 83.48] | 12 | 8 | ")
    assert table[1].endswith(" | [config](../runs/best__seed1/config.yaml) [config](../runs/best__seed2/config.yaml) "
                             "[config](../runs/best__seed3/config.yaml) |")  # fmt: skip
    assert table[2].startswith("| 1 | close | 3 | **80.67** [")
    assert table[3].startswith("| 3 | worse | 3 | 71.03 [")
    assert table[4].startswith("| 4 | single | 1 | 50.00† | 50.00† | 12 | 3 |")
    assert table[5] == (
        "| – | baseline (untouched encoder) | – | 60.00 | 60.00 | – | – | [metrics](../runs/base/metrics.json) |"
    )
    p_table = table[table.index("| loss | T | average |") :]
    assert p_table[1].startswith("| best | best | best |") and p_table[4] == "| single | – | – |"
    assert not any(line.startswith("> **WARNING") for line in lines)


def test_csv_is_long_and_holds_every_statistic(board: Leaderboard) -> None:
    rows = list(csv.DictReader(io.StringIO(to_csv(board))))
    assert tuple(rows[0]) == CSV_COLUMNS
    cells = {(r["loss"], r["task"]): r for r in rows}
    close = cells[("close", "T")]
    row = next(r for r in board.rows if r.loss == "close")
    cell = row.cells["T"]
    assert float(close["mean"]) == pytest.approx(cell.seeds.mean, rel=1e-9)
    assert float(close["ci_low"]) == pytest.approx(cell.seeds.ci_low, rel=1e-9)
    assert float(close["p_seeds"]) == pytest.approx(cell.p_seeds, rel=1e-9)
    assert float(close["p_holm"]) == pytest.approx(cell.p_holm, rel=1e-9)
    assert (close["tied_with_best"], close["is_best"], close["best"], close["seeds"]) == ("1", "0", "best", "1 2 3")
    assert (cells[("worse", "T")]["tied_with_best"], cells[("single", "T")]["tied_with_best"]) == ("0", "")
    assert cells[("best", "T")]["p_vs_best"] == "" and cells[("best", "T")]["is_best"] == "1"
    assert cells[("best", "cost/wall_time_s")]["mean"] == "12" and cells[("single", "cost/trials")]["mean"] == "3"
    assert cells[("baseline", "T")]["rank"] == "" and cells[("baseline", "T")]["run_dirs"] == "../runs/base"


def test_latex_and_html_mark_the_same_cells(board: Leaderboard) -> None:
    latex = to_latex(board)
    assert re.findall(r"\\textbf\{([^}]*)\}", latex) == ["81.00", "81.00", "80.67", "80.67"]
    assert "50.00$^\\dagger$" in latex and "baseline (untouched encoder)" in latex
    page = to_html(board, "g")
    assert re.findall(r"<b>([^<]*)</b>", page) == ["Bold", "81.00", "81.00", "80.67", "80.67"]
    assert "<a href='../runs/best__seed1/config.yaml'>config</a>" in page


def test_runs_on_a_dirty_tree_are_flagged_in_every_format() -> None:
    board = build_leaderboard(frame(dirty=1), ["T"], "T")
    warning = "WARNING: 3 of 11 runs were made on a dirty working tree or without a recorded commit"
    assert f"> **{warning}" in to_markdown(board)
    assert warning in to_latex(board) and warning in to_html(board, "g")
    rows = list(csv.DictReader(io.StringIO(to_csv(board))))
    assert {r["loss"]: r["dirty_runs"] for r in rows} == {
        "best": "0",
        "close": "0",
        "worse": "3",
        "single": "0",
        "baseline": "0",
    }
