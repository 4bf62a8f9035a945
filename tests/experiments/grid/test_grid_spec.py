from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from experiments.grid.grid_spec import GRIDS_DIR, GridSpec, resolve_spec_path

BUILT_IN = sorted(GRIDS_DIR.glob("*.yaml"))
LOSS_CONFIG = str(GRIDS_DIR.parent / "configs" / "loss" / "cosent.yaml")


def write_spec(tmp_path: Path, **changes: object) -> Path:
    spec = {
        "name": "tiny",
        "base": [str(GRIDS_DIR.parent / "configs" / "data" / "stsb.yaml")],
        "axes": [{"name": "loss", "values": [{"label": "cosent", "config": LOSS_CONFIG}]}],
        "seeds": [1, 2],
        "evaluation_tasks": ["STSBenchmark"],
    }
    spec.update(changes)
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


@pytest.mark.parametrize("path", BUILT_IN, ids=lambda p: p.stem)
def test_built_in_specs_load(path: Path) -> None:
    spec = GridSpec.from_yaml(path)
    assert spec.name == path.stem
    assert all(config.is_file() for config in spec.base_configs)
    assert resolve_spec_path(spec.name) == path


def test_triplet_variants_covers_the_requested_losses_margins_and_seeds() -> None:
    spec = GridSpec.from_yaml(GRIDS_DIR / "triplet_variants.yaml")
    margins = {v.label: v.overrides.get("model.loss.init_args.margin") for v in spec.axes[0].values}
    assert sorted(m for m in margins.values() if m is not None) == [1.0, 1.0, 1.0, 5.0, 5.0, 5.0]
    assert margins["batch_hard_soft_margin"] is None
    assert spec.seeds == (1, 2, 3)
    assert "Banking77Clustering" in spec.evaluation_tasks


def test_relative_paths_resolve_from_the_spec_directory(tmp_path: Path) -> None:
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "loss.yaml").write_text(Path(LOSS_CONFIG).read_text())
    values = [{"label": "cosent", "config": "configs/loss.yaml", "overrides": {"model.loss.init_args.scale": 5.0}}]
    spec = GridSpec.from_yaml(write_spec(tmp_path, axes=[{"name": "loss", "values": values}]))
    assert spec.axes[0].values[0].configs == ((tmp_path / "configs" / "loss.yaml").resolve(),)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": "has space"}, "name"),
        ({"seeds": [1, 1]}, "seeds"),
        ({"primary_metric": "SICK-R"}, "primary_metric"),
        ({"colour": "red"}, "unknown keys"),
        ({"axes": []}, "axes is empty"),
        ({"axes": [{"name": "loss", "values": [{"label": "x", "config": "missing.yaml"}]}]}, "not found"),
        ({"axes": [{"name": "loss", "values": [{"label": "x"}]}]}, "config file and/or overrides"),
        (
            {"axes": [{"name": "loss", "values": [{"label": "a", "config": LOSS_CONFIG}] * 2}]},
            "distinct labels",
        ),
    ],
)
def test_invalid_specs_are_refused_with_the_key(tmp_path: Path, changes: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        GridSpec.from_yaml(write_spec(tmp_path, **changes))


def test_unknown_grid_name_lists_the_built_in_grids() -> None:
    with pytest.raises(ValueError, match="triplet_variants"):
        resolve_spec_path("no_such_grid")
