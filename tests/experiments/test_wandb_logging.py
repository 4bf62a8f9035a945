import logging
from pathlib import Path

import pytest
import wandb

from experiments.wandb_logging import ResilientWandbLogger, WandbSettings, build_wandb_logger, finish_wandb


@pytest.fixture(autouse=True)
def _finish_runs():
    yield
    finish_wandb()


def test_offline_run_is_written_under_the_run_dir(tmp_path: Path) -> None:
    logger = build_wandb_logger(WandbSettings(name="t", tags=["a"]), tmp_path, {"lr": 1e-3})
    assert isinstance(logger, ResilientWandbLogger)
    logger.log_metrics({"train/loss": 1.0}, step=0)
    assert logger.experiment.config["lr"] == 1e-3
    assert logger.experiment.name == "t"
    finish_wandb()
    assert list((tmp_path / "wandb").glob("offline-run-*")), "offline run directory missing"


def test_disabled_returns_none(tmp_path: Path) -> None:
    assert build_wandb_logger(WandbSettings(mode="disabled"), tmp_path, {}) is None


def test_failing_init_warns_and_returns_none(tmp_path: Path, monkeypatch, caplog) -> None:
    def broken_init(**_):
        raise RuntimeError("no server")

    monkeypatch.setattr(wandb, "init", broken_init)
    with caplog.at_level(logging.WARNING):
        assert build_wandb_logger(WandbSettings(mode="online"), tmp_path, {}) is None
    assert "no server" in caplog.text


def test_failure_while_logging_does_not_raise(tmp_path: Path, monkeypatch, caplog) -> None:
    logger = build_wandb_logger(WandbSettings(), tmp_path, {})
    assert logger is not None

    def broken_log(*_, **__):
        raise OSError("disk full")

    monkeypatch.setattr(logger.experiment, "log", broken_log)
    with caplog.at_level(logging.WARNING):
        logger.log_metrics({"x": 1.0}, step=1)
        logger.log_metrics({"x": 2.0}, step=2)
    assert caplog.text.count("disk full") == 1


def test_two_runs_in_one_process_are_separate(tmp_path: Path) -> None:
    first = build_wandb_logger(WandbSettings(name="one"), tmp_path / "a", {})
    first_id = first.experiment.id
    second = build_wandb_logger(WandbSettings(name="two"), tmp_path / "b", {})
    assert second.experiment.id != first_id
