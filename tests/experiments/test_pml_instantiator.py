"""PML objects from configs: unset required or untyped object arguments, and bad PML setups, fail in one line."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from jsonargparse import Namespace
from pytorch_metric_learning import distances, losses, miners, regularizers

from experiments.cli import CONFIG_DIR, main
from experiments.pml_instantiator import instantiate_pml
from tests.experiments.short_fit import short_fit


def test_builds_pml_objects_with_their_arguments() -> None:
    loss = instantiate_pml(losses.ArcFaceLoss, num_classes=5, embedding_size=8, scale=30.0)
    assert loss.W.shape == (8, 5) and loss.scale == 30.0
    assert instantiate_pml(miners.MultiSimilarityMiner, epsilon=0.2).epsilon == 0.2


def test_unset_required_arguments_are_named() -> None:
    with pytest.raises(
        ValueError, match="ProxyAnchorLoss needs num_classes, embedding_size: set them in its init_args"
    ):
        instantiate_pml(losses.ProxyAnchorLoss, num_classes=None, embedding_size=None, margin=0.1)
    with pytest.raises(ValueError, match="ArcFaceLoss needs embedding_size: set it"):
        instantiate_pml(losses.ArcFaceLoss, num_classes=3)


def test_a_rejected_type_is_one_line_naming_the_class() -> None:
    with pytest.raises(
        ValueError, match=r"^ArcFaceLoss\(num_classes='many', embedding_size=8\) could not be built: "
    ) as caught:
        instantiate_pml(losses.ArcFaceLoss, num_classes="many", embedding_size=8)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    "distance",
    [
        {"class_path": "pytorch_metric_learning.distances.LpDistance", "init_args": {"power": 2}},
        "pytorch_metric_learning.distances.LpDistance",
        Namespace(class_path="pytorch_metric_learning.distances.LpDistance", init_args=Namespace(power=2)),
        distances.LpDistance(power=2),
    ],
    ids=["spec", "class-path", "namespace", "instance"],
)
def test_object_arguments_are_built_from_specs_and_class_paths(distance) -> None:
    # PML's distance/reducer/regularisers are untyped: jsonargparse hands specs over as written (from v5 on).
    loss = instantiate_pml(
        losses.SupConLoss,
        distance=distance,
        reducer={"class_path": "pytorch_metric_learning.reducers.ThresholdReducer", "init_args": {"low": 0.1}},
        embedding_regularizer={"class_path": "pytorch_metric_learning.regularizers.LpRegularizer"},
    )
    assert isinstance(loss.distance, distances.LpDistance)
    assert isinstance(loss.embedding_regularizer, regularizers.LpRegularizer)
    assert loss.reducer.reducers["loss"].low == 0.1  # PML copies the reducer per sub-loss


@pytest.mark.parametrize(
    ("reducer", "message"),
    [
        (["low", 0.1], r"SupConLoss: reducer must be a PML BaseReducer given as \{class_path: "),
        ("pytorch_metric_learning.miners.BatchHardMiner", "SupConLoss: reducer must be a PML BaseReducer, got "),
        ("pytorch_metric_learning.reducers.NoSuchReducer", "reducer class_path .* cannot be imported"),
        (
            {"class_path": "pytorch_metric_learning.reducers.ThresholdReducer", "init_args": {"lo": 0.1}},
            r"ThresholdReducer\(lo=0.1\) could not be built: .*unexpected keyword argument 'lo'",
        ),
    ],
    ids=["garbled", "not-a-reducer", "unknown-class", "bad-init-arg"],
)
def test_bad_object_arguments_are_one_line(reducer, message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        instantiate_pml(losses.SupConLoss, reducer=reducer)
    assert "\n" not in str(caught.value)


def _pml_config(tmp_path: Path, loss: dict) -> Path:
    path = tmp_path / "loss.yaml"
    wrapped = {"class_path": "lightning_modules.losses.metric_learning.MetricLearningLoss", "init_args": {"loss": loss}}
    path.write_text(yaml.safe_dump({"model": {"loss": wrapped}}))
    return path


@pytest.mark.parametrize(
    ("loss", "data", "expected"),
    [
        (
            {"class_path": "pytorch_metric_learning.losses.ProxyAnchorLoss", "init_args": {"margin": 0.1}},
            "banking77",
            "ProxyAnchorLoss needs num_classes, embedding_size",
        ),
        (
            {
                "class_path": "pytorch_metric_learning.losses.ArcFaceLoss",
                "init_args": {"num_classes": 77, "embedding_size": 384},
            },
            "banking77",
            "MetricLearningLoss(ArcFaceLoss) does not fit the encoder's ",
        ),
        (
            {"class_path": "pytorch_metric_learning.losses.FastAPLoss"},
            "snli_triplets",
            "MetricLearningLoss(FastAPLoss) cannot train on triplet (anchor, positive, negative) batches, which carry "
            "no class labels",
        ),
    ],
    ids=["unset-num-classes", "embedding-size-of-another-encoder", "labels-needed-on-triplets"],
)
def test_bad_pml_setups_stop_the_cli_in_one_line(
    loss: dict, data: str, expected: str, tiny_model_dir: Path, data_dir: Path, tmp_path: Path, capsys
) -> None:
    args = [
        "fit",
        "--config",
        str(_pml_config(tmp_path, loss)),
        "--config",
        str(CONFIG_DIR / "data" / f"{data}.yaml"),
        "--model.encoder.init_args.model_name_or_path",
        str(tiny_model_dir),
        "--data.source.init_args.data_dir",
        str(data_dir),
        "--run_dir",
        str(tmp_path / "run"),
        "--evaluation.tasks",
        "[]",
        "--wandb.mode",
        "disabled",
        *short_fit(1),
    ]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("losslab: error:") and expected in err[-1]
    assert not (tmp_path / "run" / "metrics.json").exists()
