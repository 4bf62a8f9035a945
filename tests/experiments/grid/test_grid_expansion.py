from __future__ import annotations

import io
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from experiments.cli import main
from experiments.grid.cell_config_parser import CellConfigParser
from experiments.grid.cell_launcher import LaunchResult
from experiments.grid.grid_expansion import expand_grid, override_args
from experiments.grid.grid_layout import CellStatus, GridLayout
from experiments.grid.grid_runner import GridRunner
from experiments.grid.grid_spec import GRIDS_DIR, GridSpec

CONFIGS = GRIDS_DIR.parent / "configs"


@pytest.fixture(scope="module")
def parser() -> CellConfigParser:
    return CellConfigParser()


def two_by_two(tmp_path: Path) -> GridSpec:
    spec = {
        "name": "mixed",
        "axes": [
            {
                "name": "loss",
                "values": [
                    {"label": "cosent", "config": str(CONFIGS / "loss" / "cosent.yaml")},
                    {
                        "label": "hard-m1",
                        "config": str(CONFIGS / "loss" / "batch_hard_triplet.yaml"),
                        "overrides": {"model.loss.init_args.margin": 1.0},
                    },
                ],
            },
            {
                "name": "data",
                "values": [
                    {"label": "stsb", "config": str(CONFIGS / "data" / "stsb.yaml")},
                    {"label": "banking77", "config": str(CONFIGS / "data" / "banking77.yaml")},
                ],
            },
        ],
        "seeds": [1, 2],
        "evaluation_tasks": ["STSBenchmark", "SICK-R"],
    }
    path = tmp_path / "mixed.yaml"
    path.write_text(yaml.safe_dump(spec))
    return GridSpec.from_yaml(path)


def test_cells_cross_axes_with_seeds_outermost(tmp_path: Path, parser: CellConfigParser) -> None:
    cells = expand_grid(two_by_two(tmp_path), parser=parser)
    assert [c.cell_id for c in cells[:4]] == [
        "cosent__stsb__seed1",
        "cosent__banking77__seed1",
        "hard-m1__stsb__seed1",
        "hard-m1__banking77__seed1",
    ]
    assert [c.seed for c in cells] == [1] * 4 + [2] * 4
    assert [c.index for c in cells] == list(range(8))
    hard = cells[3]
    assert (hard.loss, hard.dataset, hard.refused) == ("BatchHardTripletLoss", "banking77", None)
    args = hard.fit_args(Path("runs/mixed") / hard.cell_id)
    assert args[args.index("--model.loss.init_args.margin") + 1] == "1.0"
    assert args[args.index("--data.seed") + 1] == "1"
    assert args[args.index("--wandb.tags") + 1] == "[BatchHardTripletLoss,banking77,seed1]"
    assert args[args.index("--wandb.group") + 1] == "mixed"
    # The cell's arguments resolve, through the CLI's own parser, to what the spec asked for.
    config = parser.parse(args[1:])
    assert config.model.loss.init_args.margin == 1.0
    assert config.data.source.init_args.name == "banking77"
    assert config.evaluation.tasks == ["STSBenchmark", "SICK-R"]


def test_incompatible_loss_and_data_are_refused_with_the_reason(tmp_path: Path, parser: CellConfigParser) -> None:
    refused = {c.cell_id: c.refused for c in expand_grid(two_by_two(tmp_path), parser=parser) if c.refused}
    assert set(refused) == {f"{c}__seed{s}" for c in ("cosent__banking77", "hard-m1__stsb") for s in (1, 2)}
    assert "CoSENTLoss" in refused["cosent__banking77__seed1"]
    assert "labeled" in refused["cosent__banking77__seed1"]
    assert "BatchHardTripletLoss" in refused["hard-m1__stsb__seed1"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--model.loss.init_args.margn", "1"], "margn"),
        (["--data.batching.batch_size", "6"], "samples_per_label"),
    ],
)
def test_bad_cell_configs_are_refused(tmp_path: Path, parser: CellConfigParser, extra: list, message: str) -> None:
    cells = expand_grid(two_by_two(tmp_path), extra, parser=parser)
    assert message in cells[3].refused


def test_override_args_render_values_for_the_cli() -> None:
    assert override_args({"a.b": 1.0, "c": True, "d": ["x", "y"], "e": "text", "--f": None}) == [
        "--a.b",
        "1.0",
        "--c",
        "true",
        "--d",
        '["x", "y"]',
        "--e",
        "text",
        "--f",
        "null",
    ]


class InProcessLauncher:
    """Runs the cell's ``losslab fit`` in this process: the subprocess start-up would dominate these tests."""

    def __call__(self, args: list[str], log_dir: Path, on_start: Callable[[int], None]) -> LaunchResult:
        on_start(os.getpid())
        return LaunchResult(main(args), "")


@pytest.mark.parametrize("spec_path", sorted(GRIDS_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_built_in_grid_expands_and_its_first_cell_smoke_runs(
    spec_path: Path, parser: CellConfigParser, tiny_model_dir: Path, data_dir: Path, tmp_path: Path
) -> None:
    spec = GridSpec.from_yaml(spec_path)
    smoke = [
        *("--model.encoder.init_args.model_name_or_path", str(tiny_model_dir)),
        *("--data.source.init_args.data_dir", str(data_dir)),
        *("--trainer.max_steps", "2", "--trainer.val_check_interval", "2", "--trainer.limit_val_batches", "2"),
        *("--evaluation.tasks", "[]", "--evaluation.export_model", "false", "--wandb.mode", "disabled"),
        *("--data.batching.batch_size", "8", "--data.batching.eval_batch_size", "16"),
    ]
    cells = expand_grid(spec, smoke, parser=parser)
    assert len(cells) == len(spec.seeds) * len(spec.axes[0].values)
    assert [c.refused for c in cells] == [None] * len(cells)
    layout = GridLayout(tmp_path / spec.name)
    GridRunner(cells[:1], layout, InProcessLauncher(), out=io.StringIO()).run()
    assert layout.status(cells[0]) is CellStatus.DONE
    metrics = json.loads((layout.run_dir(cells[0]) / "metrics.json").read_text())
    assert metrics["global_step"] == 2
    assert metrics["primary_metric"]["name"] in metrics["val"]
