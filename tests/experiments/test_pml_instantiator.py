"""PML objects from configs: unset or mistyped required arguments fail in one line naming the class."""

from __future__ import annotations

import pytest
from pytorch_metric_learning import losses, miners

from experiments.pml_instantiator import instantiate_pml


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
