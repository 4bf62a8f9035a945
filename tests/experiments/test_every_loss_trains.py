"""Every registered loss trains end to end from the CLI on real data (tiny model, two steps each)."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest
import torch
import yaml
from safetensors.torch import load_file

from experiments.cli import CONFIG_DIR, main
from lightning_modules.losses import LOSSES
from tests.experiments.short_fit import short_fit

# Loss class name -> (config in configs/loss/, config in configs/data/, extra CLI overrides). Overrides are
# formatted with {dim} (the tiny model's embedding size), {tiny} (its directory) and {cache} (a teacher cache).
TEACHER = (
    "--data.teacher.init_args.model_name_or_path",
    "{tiny}",
    "--data.teacher_cache_dir",
    "{cache}",
)
DIMS = ("--model.loss.init_args.matryoshka_dims", "[{dim}, {half}]")
RECIPES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "BatchAllTripletLoss": ("batch_all_triplet", "banking77", ()),
    "BatchHardTripletLoss": ("batch_hard_triplet", "banking77", ()),
    "BatchSemiHardTripletLoss": ("batch_semi_hard_triplet", "banking77", ()),
    "BatchHardSoftMarginTripletLoss": ("batch_hard_soft_margin_triplet", "banking77", ()),
    "TripletLoss": ("triplet", "snli_triplets", ()),
    "ContrastiveLoss": ("contrastive", "msrp", ()),
    "OnlineContrastiveLoss": ("online_contrastive", "msrp", ()),
    "ContrastiveTensionLoss": ("contrastive_tension", "stsb_contrastive_tension", ()),
    "ContrastiveTensionLossInBatchNegatives": ("contrastive_tension_in_batch_negatives", "stsb_singles", ()),
    "CoSENTLoss": ("cosent", "stsb", ()),
    "AnglELoss": ("angle", "stsb", ()),
    "CosineSimilarityLoss": ("cosine_similarity", "stsb_normalized", ()),
    "DenoisingAutoEncoderLoss": ("denoising_auto_encoder", "stsb_tsdae", ()),
    "MSELoss": ("mse", "stsb_distillation", TEACHER),
    "MarginMSELoss": ("margin_mse", "snli_margin_triplets", TEACHER),
    "MatryoshkaLoss": ("matryoshka", "stsb", DIMS),
    "Matryoshka2dLoss": ("matryoshka_2d", "stsb", DIMS),
    "AdaptiveLayerLoss": ("adaptive_layer", "snli_triplets", ()),
    "MegaBatchMarginLoss": ("mega_batch_margin", "snli_positive_pairs", ()),
    "MultipleNegativesRankingLoss": ("multiple_negatives_ranking", "snli_triplets", ()),
    "CachedMultipleNegativesRankingLoss": ("cached_multiple_negatives_ranking", "snli_triplets", ()),
    "MultipleNegativesSymmetricRankingLoss": ("multiple_negatives_symmetric_ranking", "snli_triplets", ()),
    "SoftmaxLoss": ("softmax", "msrp", ("--model.loss.init_args.embedding_dim", "{dim}")),
    "GradientCachedLoss": ("gradient_cached", "banking77", ()),
    "CachedMultipleNegativesSymmetricRankingLoss": ("cached_multiple_negatives_symmetric_ranking", "snli_triplets", ()),
    "GISTEmbedLoss": ("gist_embed", "snli_guided", TEACHER),
    # A token budget instead of mini_batch_size: the packing runs end to end.
    "CachedGISTEmbedLoss": (
        "cached_gist_embed",
        "snli_guided",
        (*TEACHER, "--model.loss.init_args.mini_batch_num_tokens", "300"),
    ),
    "DistillKLDivLoss": ("distill_kl_div", "snli_teacher_scores", TEACHER),
    # With a learned projection (a loss parameter, trained with the encoder).
    "EmbedDistillLoss": (
        "embed_distill",
        "stsb_distillation",
        (*TEACHER, "--model.loss.init_args.projection_dim", "{dim}"),
    ),
    "GlobalOrthogonalRegularizationLoss": ("global_orthogonal_regularization", "stsb", ()),
    "WeightedSumLoss": ("weighted_sum", "snli_triplets", ()),
    "MetricLearningLoss": ("pml_supcon", "banking77", ()),
}
# Further configs of registered losses: config in configs/loss/ -> (config in configs/data/, extra CLI overrides).
PML_DIM = ("--model.loss.init_args.loss.init_args.embedding_size", "{dim}")
MORE_CONFIGS: dict[str, tuple[str, tuple[str, ...]]] = {
    "pml_multi_similarity": ("banking77", ()),
    "pml_circle": ("banking77", ()),
    "pml_arcface": ("banking77", PML_DIM),
    "pml_proxy_anchor": ("banking77", PML_DIM),
    "pml_triplet_batch_hard_miner": ("banking77", ()),
    "pml_ntxent": ("snli_triplets", ()),
}


def test_recipes_name_exactly_the_registered_losses() -> None:
    assert set(RECIPES) == {cls.__name__ for cls in LOSSES}


@pytest.mark.parametrize("loss_name", [cls.__name__ for cls in LOSSES])
def test_loss_trains_from_the_cli(loss_name: str, tiny_model_dir: Path, data_dir: Path, tmp_path: Path) -> None:
    if loss_name not in RECIPES:
        pytest.fail(f"{loss_name} is registered in LOSSES but has no (loss config, data config) recipe here")
    loss_config, data_config, overrides = RECIPES[loss_name]
    _fit_and_check(loss_name, loss_config, data_config, overrides, tiny_model_dir, data_dir, tmp_path)


@pytest.mark.parametrize("loss_config", sorted(MORE_CONFIGS))
def test_more_loss_configs_train_from_the_cli(
    loss_config: str, tiny_model_dir: Path, data_dir: Path, tmp_path: Path
) -> None:
    config = yaml.safe_load((CONFIG_DIR / "loss" / f"{loss_config}.yaml").read_text())
    loss_name = config["model"]["loss"]["class_path"].rsplit(".", 1)[-1]
    data_config, overrides = MORE_CONFIGS[loss_config]
    _fit_and_check(loss_name, loss_config, data_config, overrides, tiny_model_dir, data_dir, tmp_path)


def _fit_and_check(
    loss_name: str,
    loss_config: str,
    data_config: str,
    overrides: tuple[str, ...],
    tiny_model_dir: Path,
    data_dir: Path,
    tmp_path: Path,
) -> None:
    dim = json.loads((tiny_model_dir / "config.json").read_text())["hidden_size"]
    values = {"dim": dim, "half": dim // 2, "tiny": tiny_model_dir, "cache": tmp_path / "teacher_cache"}
    run_dir = tmp_path / "run"
    args = [
        "fit",
        "--config",
        str(CONFIG_DIR / "loss" / f"{loss_config}.yaml"),
        "--config",
        str(CONFIG_DIR / "data" / f"{data_config}.yaml"),
        "--model.encoder.init_args.model_name_or_path",
        str(tiny_model_dir),
        "--data.source.init_args.data_dir",
        str(data_dir),
        "--run_dir",
        str(run_dir),
        *short_fit(2),
        "--evaluation.tasks",
        "[]",
        "--wandb.mode",
        "disabled",
        # Without weight decay only gradients move the weights, so "weights changed" means "the loss trained".
        "--model.optimizer.init_args.weight_decay",
        "0.0",
        *(arg.format(**values) for arg in overrides),
    ]
    assert main(args) == 0

    saved = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert saved["model"]["loss"]["class_path"].rsplit(".", 1)[-1] == loss_name
    with open(run_dir / "metrics.csv") as handle:
        losses = [float(row["train/loss"]) for row in csv.DictReader(handle) if row.get("train/loss")]
    assert losses and all(math.isfinite(value) for value in losses)

    metrics = json.loads((run_dir / "metrics.json").read_text())
    checkpoint = torch.load(run_dir / metrics["best_checkpoint"], map_location="cpu", weights_only=False)
    trained = checkpoint["state_dict"]
    initial = load_file(tiny_model_dir / "model.safetensors")
    changed = [key for key, value in initial.items() if not torch.equal(trained[f"encoder.transformer.{key}"], value)]
    assert changed, f"{loss_name}: no encoder weight changed in two training steps"
    if loss_name == "EmbedDistillLoss":  # the learned projection is a loss parameter, checkpointed with the module
        assert {"loss.projection.weight", "loss.projection.bias"} <= set(trained)
