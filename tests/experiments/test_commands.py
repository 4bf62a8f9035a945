"""losslab's own subcommands through the real entry point: exit codes and one-line errors."""

from pathlib import Path

import pytest

from experiments.cli import main
from lightning_modules.losses import LOSSES


def test_losses_prints_every_loss(capsys) -> None:
    assert main(["losses"]) == 0
    out = capsys.readouterr().out
    assert all(f"`{cls.__name__}`" in out for cls in LOSSES)


def test_eval_writes_mteb_json_for_a_model_directory(
    tiny_model_dir: Path, tmp_path: Path, data_dir: Path, capsys
) -> None:
    out_dir = tmp_path / "results"
    args = ["eval", "--model", str(tiny_model_dir), "--tasks", "STSBenchmark", "--output-dir", str(out_dir)]
    assert main(args + ["--data-dir", str(data_dir)]) == 0
    assert "STSBenchmark" in capsys.readouterr().out
    assert list(out_dir.rglob("STSBenchmark.json"))


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--tasks", "STSBenchmarkk"], "STSBenchmark"),
        (["--model", "/nonexistent/model", "--tasks", "STSBenchmark"], "/nonexistent/model"),
    ],
    ids=["unknown-task-suggests", "missing-model"],
)
def test_eval_bad_input_is_one_line(args: list[str], expected: str, tmp_path: Path, capsys) -> None:
    assert main(["eval", *args, "--output-dir", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("losslab eval: error:") and expected in err[0]
    assert not (tmp_path / "out").exists(), "nothing may be written for bad input"
