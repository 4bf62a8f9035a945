from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from experiments.report.leaderboard import Leaderboard
from experiments.report.leaderboard_formats import format_score, to_csv, to_html, to_latex, to_markdown
from experiments.report.results_loader import load_results
from tests.experiments.report.run_fixtures import write_run


@pytest.fixture
def board(tmp_path: Path) -> Leaderboard:
    write_run(tmp_path, {"loss": "hard_m1", "margin": "1"}, 1, {"T1": 80.0, "T2": 60.0}, best_val=5.0)
    write_run(tmp_path, {"loss": "hard_m1", "margin": "1"}, 2, {"T1": 82.0, "T2": 62.0}, best_val=7.0)
    write_run(tmp_path, {"loss": "all", "margin": "5"}, 1, {"T1": 70.0, "T2": 65.0}, best_val=9.0)
    return Leaderboard.build(load_results(tmp_path), ["T1", "T2"])


def test_markdown_bolds_the_best_of_each_column(board: Leaderboard) -> None:
    lines = to_markdown(board).splitlines()
    assert lines[0] == "| rank | loss | margin | seeds | T1 | T2 | average | val/knn_accuracy |"
    assert lines[2] == "| 1 | hard_m1 | 1 | 2 | **81.00 ± 1.41** | 61.00 ± 1.41 | **71.00 ± 1.41** | 6.00 ± 1.41 |"
    assert lines[3] == "| 2 | all | 5 | 1 | 70.00 | **65.00** | 67.50 | **9.00** |"


def test_csv_has_plain_numbers_and_best_flags(board: Leaderboard) -> None:
    rows = list(csv.DictReader(io.StringIO(to_csv(board))))
    assert rows[0]["loss"] == "hard_m1"
    assert rows[0]["seeds"] == "1 2"
    assert float(rows[0]["T1_mean"]) == 81.0
    assert float(rows[0]["T1_std"]) == pytest.approx(2**0.5, abs=1e-4)
    assert (rows[0]["T1_best"], rows[1]["T1_best"], rows[1]["T2_best"]) == ("1", "0", "1")
    assert rows[1]["T1_std"] == ""


def test_latex_and_html_mark_the_same_cells(board: Leaderboard) -> None:
    latex = to_latex(board)
    assert "hard\\_m1" in latex
    assert re.findall(r"\\textbf\{([^}]*)\}", latex) == [
        "81.00 $\\pm$ 1.41",
        "71.00 $\\pm$ 1.41",
        "65.00",
        "9.00",
    ]
    assert re.findall(r"<b>([^<]*)</b>", to_html(board, "g")) == ["81.00 ± 1.41", "71.00 ± 1.41", "65.00", "9.00"]


def test_missing_scores_render_as_a_dash(tmp_path: Path) -> None:
    write_run(tmp_path, {"loss": "a"}, 1, {"T1": 1.0}, best_val=1.0)
    write_run(tmp_path, {"loss": "b"}, 1, {"T2": 1.0}, best_val=1.0)
    board = Leaderboard.build(load_results(tmp_path), ["T1", "T2"])
    assert all(format_score(row.scores["average"]) == "–" for row in board.rows)
