from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt

from experiments.report.plots import save_figure


def _draw_and_save(folder: Path) -> Path:
    folder.mkdir()
    figure, axis = plt.subplots()
    axis.bar([0, 1], [1.0, 2.0])  # bars carry clip paths, whose SVG ids matplotlib salts at random by default
    save_figure(figure, folder / "scores_by_task")
    return folder


def test_a_rebuilt_figure_is_byte_identical(tmp_path: Path) -> None:
    first, second = _draw_and_save(tmp_path / "a"), _draw_and_save(tmp_path / "b")
    for name in ("scores_by_task.png", "scores_by_task.svg"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    svg = (second / "scores_by_task.svg").read_text()
    assert "clip-path=" in svg and "<dc:date>" not in svg
