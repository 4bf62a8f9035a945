"""The end-of-fit callback: the exported model's card and the MTEB metadata are filled from the run itself."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml
from huggingface_hub import ModelCard

from experiments.cli import CONFIG_DIR, main
from experiments.evaluation.model_meta import run_model_name
from tests.experiments.short_fit import short_fit, write_sts_subset


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path, data_dir: Path) -> Path:
    """A 4-step quickstart fit on the tiny model, MTEB on a 30-pair local STS task before and after."""
    root = tmp_path_factory.mktemp("finalizer")
    task = write_sts_subset(data_dir, root / "tiny_sts.csv", pairs=30)
    run_dir = root / "quickstart" / "20250101-1200"
    args = ["fit", "--config", str(CONFIG_DIR / "quickstart.yaml"), "--run_dir", str(run_dir)]
    args += ["--model.encoder.init_args.model_name_or_path", str(tiny_model_dir), "--autocast", "off"]
    args += ["--evaluation.tasks", f"[{task}]", *short_fit(4, val_every=2)]
    assert main(args) == 0
    return run_dir


def test_model_card_is_filled_from_the_run(finished_run: Path, tiny_model_dir: Path, data_dir: Path) -> None:
    card = ModelCard.load(finished_run / "model" / "README.md")
    text = card.text
    metrics = json.loads((finished_run / "metrics.json").read_text())
    config_text = (finished_run / "config.yaml").read_text()
    config = yaml.safe_load(config_text)
    with open(data_dir / "stsb" / "train.csv", encoding="utf-8") as handle:
        train_rows = sum(1 for _ in csv.DictReader(handle))

    assert card.data.base_model is None  # a local directory is not claimed as a Hub model
    assert f"**Base model:** {tiny_model_dir}" in text
    loss = config["model"]["loss"]
    assert f"**Loss:** `{loss['class_path']}` with `{json.dumps(loss['init_args'], sort_keys=True)}`" in text
    assert f"**Training data:** stsb, {train_rows:,} rows" in text
    steps, seed, precision = metrics["global_step"], config["seed_everything"], config["trainer"]["precision"]
    assert f"**Steps:** {steps:,}; **seed:** {seed}; **precision:** {precision}" in text
    assert f"`{metrics['primary_metric']['name']}` = {metrics['best_val']:.4f}" in text
    ((wandb_dir,),) = [list((finished_run / "wandb").glob("offline-run-*"))]
    assert f"**Weights & Biases run:** `{wandb_dir.name.rsplit('-', 1)[-1]}`" in text
    ((task, after),) = metrics["test"].items()
    before = metrics["before"][task]
    name = task.removeprefix("test/mteb/")
    assert f"| {name} | {before:.2f} | {after:.2f} | {after - before:+.2f} |" in text
    assert yaml.safe_load(text.split("```yaml\n", 1)[1].split("```", 1)[0]) == yaml.safe_load(config_text)
    assert {"losslab", f"loss:{loss['class_path'].rsplit('.', 1)[-1]}"} <= set(card.data.tags)


def test_mteb_results_are_filed_under_the_run_with_its_provenance(finished_run: Path, tiny_model_dir: Path) -> None:
    def meta(stage: str) -> dict:
        (path,) = (finished_run / "mteb" / stage).rglob("model_meta.json")
        return json.loads(path.read_text())

    before, after = meta("before"), meta("after")
    assert before["name"] == after["name"] == run_model_name(finished_run) == "losslab/quickstart-20250101-1200"
    assert after["revision"].endswith(f"-step-{json.loads((finished_run / 'metrics.json').read_text())['global_step']}")
    assert after["adapted_from"] == str(tiny_model_dir)
    assert after["training_datasets"] == ["STSBenchmark"]  # trained on stsb: its MTEB task is not zero-shot
    # The untrained weights are the base model itself: nothing adapted, nothing trained on.
    assert before["adapted_from"] is None and before["training_datasets"] is None
