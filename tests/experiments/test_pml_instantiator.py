"""PML objects from configs: unset or mistyped required arguments, and bad PML setups, fail in one CLI line."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pytorch_metric_learning import losses, miners

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
