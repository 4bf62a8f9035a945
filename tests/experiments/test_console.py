"""The console filters: each drops exactly its known notice; a real fit and resume print what losslab does."""

from __future__ import annotations

import io
import logging
import os
import re
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import mteb
import pytest
import torch
from lightning_fabric.plugins.environments.slurm import SLURMEnvironment
from lightning_fabric.utilities.warnings import PossibleUserWarning
from lightning_utilities.core import rank_zero
from pytorch_lightning.callbacks import ModelCheckpoint
from pytorch_lightning.utilities import rank_zero_info
from pytorch_lightning.utilities._pytree import _tree_flatten
from transformers.utils import logging as hf_logging

from experiments.callbacks.last_checkpoint import LAST_CHECKPOINT
from experiments.cli import CONFIG_DIR
from experiments.console import filter_known_warnings, install_console_filters, quiet_run_directory_notices
from experiments.run_history_logger import RunHistoryLogger

RESUME_NOTICE = (  # Lightning's text (pytorch_lightning/loops/training_epoch_loop.py), emitted there below
    "You're resuming from a checkpoint that ended before the epoch ended and your dataloader is not resumable."
    " This can cause unreliable results if further training is done."
)


def _as_if_from(module: str, code: str, **names) -> None:
    """Run ``code`` in a frame of ``module``: warnings attribute it to that module, as when the library runs it."""
    exec(compile(code, module.replace(".", "/") + ".py", "exec"), {"__name__": module, **names})  # noqa: S102


def _superseded_notice() -> None:
    # mteb.evaluate calls this (the warning's stacklevel points at the caller).
    _as_if_from("mteb.evaluate", "task.check_if_dataset_is_superseded()", task=mteb.get_task("STSBenchmark"))


def _srun_hint(monkeypatch) -> None:
    monkeypatch.setattr("shutil.which", lambda name: "/usr/bin/srun" if name == "srun" else None)
    monkeypatch.delenv("SLURM_NTASKS", raising=False)
    SLURMEnvironment._validate_srun_used()


NOTICES = {
    "mteb-superseded": lambda monkeypatch: _superseded_notice(),
    "lightning-srun-hint": _srun_hint,
    "lightning-pytree-leafspec": lambda monkeypatch: _tree_flatten(1),
    "lightning-not-resumable": lambda monkeypatch: _as_if_from(
        "pytorch_lightning.loops.training_epoch_loop",
        "warnings.warn(message, PossibleUserWarning)",
        warnings=warnings,
        message=RESUME_NOTICE,
        PossibleUserWarning=PossibleUserWarning,
    ),
}


def _shown(emit, monkeypatch, filtered: bool) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if filtered:
            filter_known_warnings()
        emit(monkeypatch)
    return [str(w.message) for w in caught]


@pytest.mark.parametrize("notice", NOTICES)
def test_each_warning_filter_drops_its_notice_from_its_source(notice: str, monkeypatch) -> None:
    emit = NOTICES[notice]
    assert _shown(emit, monkeypatch, filtered=False), "the notice was not emitted: the check would prove nothing"
    assert _shown(emit, monkeypatch, filtered=True) == []


@pytest.mark.parametrize(
    ("module", "message", "category"),
    [
        ("mteb.evaluate", "The task 'X' is currently in beta.", UserWarning),
        ("lightning_fabric.plugins.environments.slurm", "another SLURM notice", PossibleUserWarning),
        ("some_other_library", RESUME_NOTICE, PossibleUserWarning),  # the same text from elsewhere
    ],
)
def test_other_notices_of_the_same_sources_still_show(module: str, message: str, category: type[Warning]) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        filter_known_warnings()
        warnings.warn_explicit(message, category, module.replace(".", "/") + ".py", 1, module=module)
    assert [str(w.message) for w in caught] == [message]


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_log_filters_drop_the_litlogger_tip_and_the_superseded_log_line_only() -> None:
    install_console_filters()
    handlers = {name: _Lines() for name in ("rank_zero", "mteb")}
    loggers = {"rank_zero": rank_zero.log, "mteb": logging.getLogger("mteb.abstasks.abstask")}
    for name, logger in loggers.items():
        logger.addHandler(handlers[name])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rank_zero_info("💡 Tip: For seamless cloud logging and experiment tracking, try installing [litlogger]")
            rank_zero_info("checkpoints: best by val/sts_spearman (max)")
            mteb.get_task("STSBenchmark").check_if_dataset_is_superseded()
            loggers["mteb"].warning("The task 'X' is currently in beta.")
    finally:
        for name, logger in loggers.items():
            logger.removeHandler(handlers[name])
    assert handlers["rank_zero"].lines == ["checkpoints: best by val/sts_spearman (max)"]
    assert handlers["mteb"].lines == ["The task 'X' is currently in beta."]


def test_only_the_weight_loading_bars_of_transformers_are_off() -> None:
    install_console_filters()

    def disabled(desc: str) -> bool:
        with hf_logging.tqdm(range(2), desc=desc, file=io.StringIO()) as bar:
            return bool(bar.disable)

    assert disabled("Loading weights") and disabled("Writing model shards")
    assert not disabled("Downloading something")


def test_directory_notices_are_dropped_for_the_run_directory_only(tmp_path: Path) -> None:
    def shown(directory: Path) -> list[str]:
        (directory / "checkpoints").mkdir(parents=True)
        (directory / "checkpoints" / "last.ckpt").write_bytes(b"x")
        (directory / "config.yaml").write_text("x")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            quiet_run_directory_notices(tmp_path / "run")
            ModelCheckpoint()._ModelCheckpoint__warn_if_dir_not_empty(str(directory / "checkpoints"))
            _ = RunHistoryLogger(str(directory)).experiment
        return [str(w.message) for w in caught if "exists and is not empty" in str(w.message)]

    assert shown(tmp_path / "run") == []
    assert len(shown(tmp_path / "another")) == 2


# ----------------------------------------------------------------------------- end to end
NOISE = {
    "MTEB superseded-task notice": r"is superseded by",
    "Lightning srun hint": r"srun",
    "litlogger advertisement": r"litlogger",
    "pytree LeafSpec deprecation": r"LeafSpec",
    "run directory not empty": r"exists and is not empty",
    "weights_only notice": r"weights_only",
    "dataloader not resumable": r"dataloader is not resumable",
    "weight loading bars": r"Loading weights|Writing model shards",
    "warning with its source line": r"Warning: |rank_zero_(warn|info)\(",
    "LightningCLI args warning": r"LightningCLI's args parameter",
}


def _run(args: list[str], env: dict[str, str], log: Path, run_dir: Path | None = None) -> tuple[int, str]:
    """Run ``losslab`` in a subprocess; with ``run_dir``, send SIGTERM once its first last.ckpt exists."""
    with open(log, "w", encoding="utf-8") as out:
        process = subprocess.Popen([sys.executable, "-m", "experiments.cli", *args], stdout=out, stderr=out, env=env)
        deadline = time.monotonic() + 300
        while run_dir is not None and not (run_dir / LAST_CHECKPOINT).is_file():
            assert process.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "no checkpoint within 300 s"
            time.sleep(0.005)
        if run_dir is not None:
            os.kill(process.pid, signal.SIGTERM)
        process.wait(timeout=300)
    return process.returncode, log.read_text(encoding="utf-8")


def _noise(output: str) -> dict[str, list[str]]:
    found = {
        name: [line for line in output.splitlines() if re.search(pattern, line)] for name, pattern in NOISE.items()
    }
    return {name: lines for name, lines in found.items() if lines}


def test_quickstart_fit_and_resume_print_progress_what_happens_and_the_table(
    tiny_model_dir: Path, tmp_path: Path, data_dir: Path
) -> None:
    fake_bin = tmp_path / "bin"  # srun on PATH, as on a cluster node: Lightning's hint would show
    fake_bin.mkdir()
    (fake_bin / "srun").write_text("#!/bin/sh\nexit 1\n")
    (fake_bin / "srun").chmod(0o755)
    env = {**os.environ, "PATH": f"{fake_bin}{os.pathsep}{os.environ['PATH']}", "LOSSLAB_DATA_DIR": str(data_dir)}
    run_dir = tmp_path / "run"
    args = ["fit", "--config", str(CONFIG_DIR / "quickstart.yaml"), "--run_dir", str(run_dir)]
    args += [
        "--model.encoder.init_args.model_name_or_path",
        str(tiny_model_dir),
        "--evaluation.tasks",
        "[STSBenchmark]",
    ]
    args += ["--trainer.max_steps", "40", "--trainer.val_check_interval", "2", "--trainer.limit_val_batches", "2"]

    code, first = _run(args, env, tmp_path / "first.log", run_dir=run_dir)  # stopped mid-epoch
    assert code == 143, first[-3000:]
    step = torch.load(run_dir / LAST_CHECKPOINT, map_location="cpu", weights_only=False)["global_step"]
    code, resumed = _run(
        ["fit", "--resume", str(run_dir), "--trainer.max_steps", str(step + 2)], env, tmp_path / "r.log"
    )
    assert code == 0, resumed[-3000:]

    assert _noise(first) == {} and _noise(resumed) == {}
    # What it is doing, one line each.
    for output in (first, resumed):
        assert f"losslab fit: run directory {run_dir} (W&B offline)" in output
        assert "checkpoints: best by val/sts_spearman (max)" in output
        for split in ("train", "dev"):
            assert len(re.findall(rf"stsb/{split}\.csv: \d+ duplicate rows kept \(drop_duplicates=True", output)) == 1
    assert "MTEB on the untrained encoder: STSBenchmark" in first
    assert "Restored all states from the checkpoint" in resumed  # a mid-epoch resume: the case Lightning warns on
    for line in ("MTEB on the best weights: STSBenchmark", f"exported the model with its card: {run_dir / 'model'}"):
        assert line in resumed
    assert re.search(r"^\| STSBenchmark \| [\d.]+ \| [\d.]+ \| [+-][\d.]+ \|$", resumed, re.MULTILINE)
    assert f"results: {run_dir / 'metrics.json'}" in resumed
