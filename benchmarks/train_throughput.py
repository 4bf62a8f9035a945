"""Training throughput: losslab vs sentence-transformers' SentenceTransformerTrainer, same job, alternating runs.

Job: all-MiniLM-L6-v2 (embedded), CoSENT, STS Benchmark train, batch 32, same precision and learning rate.
Throughput is measured between the end of a warm-up step and the last step (pairs/s), so model loading
and dataloader start-up are excluded on both sides.

    python benchmarks/train_throughput.py --steps 40 --rounds 2 --precision bf16 [--group-by-length]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("WANDB_MODE", "disabled")

import pandas as pd  # noqa: E402
import pytorch_lightning as pl  # noqa: E402
import torch  # noqa: E402

BATCH_SIZE = 32
WARMUP_STEPS = 3


def data_dir() -> Path:
    default = Path(__file__).resolve().parents[2] / "shared" / "data"
    return Path(os.environ.get("LOSSLAB_DATA_DIR", default))


class StepClock(pl.Callback):
    def __init__(self) -> None:
        self.times: list[float] = []

    def on_train_batch_end(self, *args: object) -> None:
        self.times.append(time.perf_counter())


def run_losslab(steps: int, precision: str, group_by_length: bool) -> float:
    from datamodules import BatchingOptions, EmbeddingDataModule
    from datamodules.sources import NamedSource
    from lightning_modules.embedding_module import EmbeddingLitModule
    from lightning_modules.encoders.hf_encoder import HFEncoder
    from lightning_modules.losses import CoSENTLoss

    pl.seed_everything(42, verbose=False)
    module = EmbeddingLitModule(HFEncoder(), CoSENTLoss())
    data = EmbeddingDataModule(
        NamedSource("stsb", data_dir=str(data_dir())),
        BatchingOptions(batch_size=BATCH_SIZE, group_by_length=group_by_length),
    )
    clock = StepClock()
    trainer = pl.Trainer(
        accelerator="cpu",
        max_steps=steps,
        precision="bf16-mixed" if precision == "bf16" else "32-true",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        limit_val_batches=0,
        callbacks=[clock],
    )
    trainer.fit(module, datamodule=data)
    return (steps - WARMUP_STEPS) * BATCH_SIZE / (clock.times[-1] - clock.times[WARMUP_STEPS - 1])


def run_sentence_transformers(steps: int, precision: str) -> float:
    from datasets import Dataset
    from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer
    from sentence_transformers.sentence_transformer.losses import CoSENTLoss
    from sentence_transformers.sentence_transformer.training_args import SentenceTransformerTrainingArguments
    from transformers import TrainerCallback

    from core.model_resolution import embedded_model_path

    class Clock(TrainerCallback):
        def __init__(self) -> None:
            self.times: list[float] = []

        def on_step_end(self, *args: object, **kwargs: object) -> None:
            self.times.append(time.perf_counter())

    frame = pd.read_csv(data_dir() / "stsb" / "train.csv")
    train = Dataset.from_dict(
        {
            "sentence1": frame["sentence1"].tolist(),
            "sentence2": frame["sentence2"].tolist(),
            "score": frame["score"].astype(float).tolist(),
        }
    )
    model = SentenceTransformer(str(embedded_model_path()), device="cpu")
    clock = Clock()
    with tempfile.TemporaryDirectory() as out:
        args = SentenceTransformerTrainingArguments(
            output_dir=out,
            per_device_train_batch_size=BATCH_SIZE,
            max_steps=steps,
            learning_rate=2e-5,
            warmup_ratio=0.1,
            bf16=precision == "bf16",
            use_cpu=True,
            report_to="none",
            save_strategy="no",
            logging_strategy="no",
            seed=42,
            dataloader_num_workers=0,
        )
        trainer = SentenceTransformerTrainer(
            model=model, args=args, train_dataset=train, loss=CoSENTLoss(model), callbacks=[clock]
        )
        trainer.train()
    return (steps - WARMUP_STEPS) * BATCH_SIZE / (clock.times[-1] - clock.times[WARMUP_STEPS - 1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--precision", choices=["bf16", "fp32"], default="bf16")
    parser.add_argument(
        "--group-by-length",
        action="store_true",
        help="losslab side batches similar lengths together (same rows and batch size, less padding)",
    )
    args = parser.parse_args()
    ours, theirs = [], []
    for round_ in range(args.rounds):
        ours.append(run_losslab(args.steps, args.precision, args.group_by_length))
        theirs.append(run_sentence_transformers(args.steps, args.precision))
        print(f"round {round_ + 1}: losslab {ours[-1]:.1f} pairs/s, sentence-transformers {theirs[-1]:.1f} pairs/s")
    o, t = statistics.median(ours), statistics.median(theirs)
    print(
        f"threads={torch.get_num_threads()} precision={args.precision} batch={BATCH_SIZE} steps={args.steps} "
        f"group_by_length={args.group_by_length}"
    )
    print(f"median: losslab {o:.1f} pairs/s, sentence-transformers {t:.1f} pairs/s, ratio {o / t:.2f}x")


if __name__ == "__main__":
    main()
