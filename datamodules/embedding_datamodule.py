"""EmbeddingDataModule: a data source, its row pipeline and the sampler the loss needs, as Lightning loaders."""

from __future__ import annotations

from collections.abc import Callable

import pytorch_lightning as pl
import torch
from pytorch_lightning.utilities import rank_zero_info, rank_zero_warn
from torch.utils.data import DataLoader, Dataset, Sampler
from transformers import AutoTokenizer, PreTrainedTokenizerBase

from core.batch_formats import BatchFormat, BatchSampling, TokenizedBatch
from core.data_contract import LossRequirements
from core.errors import SetupError
from core.model_resolution import DEFAULT_MODEL, resolve_model_name_or_path
from core.sentence_embedder import SentenceEmbedder
from core.trainer_progress import batches_trained_this_epoch
from datamodules.batching_options import BatchingOptions
from datamodules.collators import DenoisingCollator, TokenizingCollator
from datamodules.conversion_options import ConversionOptions
from datamodules.noisy_text_dataset import NoisyTextDataset
from datamodules.row_pipeline import RowPipeline
from datamodules.sampler_choice import SAMPLER_FOR, check_pk_config, check_pk_labels
from datamodules.samplers import (
    EpochBatchSampler,
    EpochTaggedBatchSampler,
    NoDuplicatesBatchSampler,
    PKBatchSampler,
    RandomBatchSampler,
)
from datamodules.sources.data_source import DataSource
from datamodules.teacher_embeddings import TeacherEmbeddings
from datamodules.text_dataset import TextDataset


class EmbeddingDataModule(pl.LightningDataModule):
    """Serves :class:`~core.batch_formats.TokenizedBatch` batches of one declared format.

    Composed of a ``source`` (where the rows come from: a built-in dataset, local files, a Hugging Face
    dataset, or your own :class:`~datamodules.sources.DataSource`), ``conversion`` options (how training
    rows are reshaped and labelled) and ``batching`` options. ``setup`` reads and validates the splits;
    training batches use the sampler the loss needs (chosen by :meth:`bind_loss`, which the
    LightningModule calls in its own ``setup``), with ``noise`` applied on the fly; validation and test
    batches keep file order and every row. Checkpoints carry the position in the training batches
    (:meth:`state_dict`), so resuming from a mid-epoch checkpoint continues with exactly the batches that
    epoch had left.

    Args:
        source: Where the rows come from (``class_path`` in YAML, e.g. ``datamodules.sources.NamedSource``).
        batching: Batch sizes, sampler and loader workers.
        conversion: Conversion, teacher labels, score normalisation and noise of the training rows.
        teacher: The model that labels rows for ``conversion.distill`` and mines the negatives of
            ``labels_to_hard_triplets`` (any ``SentenceEmbedder``, e.g.
            ``lightning_modules.encoders.teacher_encoder.TeacherEncoder``); its embeddings are computed once,
            at setup, and cached on disk. Required by those options only.
        teacher_cache_dir: Cache directory of teacher embeddings; ``None`` uses ``$LOSSLAB_CACHE_DIR`` or
            ``~/.cache/losslab``.
        tokenizer: Tokenizer name or path (the CLI links it to the encoder's ``model_name_or_path``).
        max_seq_length: Truncation length in tokens (linked to the encoder).
        seed: Seed of the validation split, the conversions and the per-epoch sampling.
    """

    def __init__(
        self,
        source: DataSource,
        batching: BatchingOptions = BatchingOptions(),
        conversion: ConversionOptions = ConversionOptions(),
        teacher: SentenceEmbedder | None = None,
        teacher_cache_dir: str | None = None,
        tokenizer: str = DEFAULT_MODEL,
        max_seq_length: int = 256,
        seed: int = 42,
    ) -> None:
        super().__init__()
        if max_seq_length < 1:
            raise ValueError(f"max_seq_length={max_seq_length}: expected a positive integer")
        self.source = source
        self.batching = batching
        self.tokenizer_name = tokenizer
        self.max_seq_length = max_seq_length
        self.seed = seed
        self.teacher = None if teacher is None else TeacherEmbeddings(teacher, teacher_cache_dir)
        self.rows = RowPipeline(source, conversion, self.teacher, seed)
        self._sampler_name = "random" if batching.sampler == "auto" else batching.sampler
        self.sampler_choice = f"{self._sampler_name} sampler (sampler={batching.sampler!r}; no loss bound)"
        if self._sampler_name == "pk":
            self._check_pk_config()
        self._tokenizer: PreTrainedTokenizerBase | None = None
        self.train_data: TextDataset | None = None
        self.val_data: TextDataset | None = None
        self.test_data: TextDataset | None = None
        self._train_sampler: EpochBatchSampler | None = None
        self._resume_state: dict[str, int] | None = None

    # ----------------------------------------------------------------- formats and sampler choice
    @property
    def train_format(self) -> BatchFormat:
        """Format of training batches (after the conversion)."""
        return self.rows.train_format

    @property
    def val_format(self) -> BatchFormat | None:
        """Format of validation batches; ``None`` when there is no validation data."""
        return self.source.val_format()

    @property
    def test_format(self) -> BatchFormat | None:
        """Format of test batches; ``None`` when there is no test data."""
        return self.source.test_format()

    @property
    def label_names(self) -> list[str] | None:
        """Class names of the training rows (class-id formats, after ``setup``)."""
        return None if self.train_data is None else self.train_data.label_names

    def describe(self) -> str:
        """One line naming the data, its conversion, teacher labels, noise and training format."""
        args = ", ".join([self.source.description, *filter(None, self.rows.describe_options())])
        return f"{type(self).__name__}({args}) -> {self.train_format.describe()}"

    def bind_loss(self, loss: LossRequirements) -> None:
        """Check the loss can train on this data and pick the sampler it needs.

        With ``batching.sampler="auto"`` the sampler follows ``loss.sampling``; an explicit sampler that
        cannot satisfy the loss is refused. The LightningModule calls this in its ``setup`` hook, so
        ``Trainer.fit`` in a notebook checks and samples exactly as ``losslab fit`` does.

        Args:
            loss: The training loss.

        Raises:
            SetupError: If the loss does not accept ``train_format`` or the sampler contradicts its needs.
        """
        loss_name = type(loss).__name__
        try:
            loss.check_format(self.train_format)
        except ValueError as err:
            raise SetupError(f"data {self.describe()}: {err}") from None
        needed = SAMPLER_FOR[loss.sampling]
        sampler = self.batching.sampler
        if sampler == "auto":
            self._sampler_name = needed
            reason = f"{loss_name} needs {loss.sampling.value} batches"
        elif loss.sampling is not BatchSampling.RANDOM and sampler != needed:
            raise SetupError(
                f"batching.sampler={sampler!r} cannot serve {loss_name}, which needs {loss.sampling.value} "
                f"batches; use sampler='{needed}' or 'auto'"
            )
        else:
            reason = f"set explicitly (sampler={sampler!r}); {loss_name} accepts it"
        try:
            if self._sampler_name == "pk":
                self._check_pk_config()
                if self.train_data is not None:
                    self._check_pk_data(self.train_data)
        except ValueError as err:
            raise SetupError(str(err)) from None
        detail = ""
        if self._sampler_name == "pk":
            k = self.batching.samples_per_label
            detail = f" (P={self.batching.batch_size // k} labels x K={k})"
        self.sampler_choice = f"{self._sampler_name} sampler{detail}: {reason}"
        rank_zero_info(f"{type(self).__name__}: using the {self.sampler_choice}")
        if self.batching.group_by_length and self._sampler_name != "random":
            rank_zero_warn(
                f"group_by_length=True is ignored: it applies to the random sampler, not {self._sampler_name}"
            )

    def _check_pk_config(self) -> None:
        check_pk_config(self.train_format, self.describe(), self.batching.batch_size, self.batching.samples_per_label)

    def _check_pk_data(self, data: TextDataset) -> None:
        check_pk_labels(data.labels, data.label_names, data.name, self.batching.samples_per_label)

    # ----------------------------------------------------------------- loading
    def prepare_data(self) -> None:
        """Fail fast on missing files or splits (a Hub dataset is downloaded here)."""
        self.source.prepare()

    def setup(self, stage: str | None = None) -> None:
        """Read, validate and convert the splits ``stage`` needs (all of them when ``stage`` is None)."""
        if self.train_data is None:
            self.train_data, self.val_data = self.rows.load_train_and_val()
            if self._sampler_name == "pk":
                self._check_pk_data(self.train_data)
        if stage in (None, "test") and self.test_data is None:
            self.test_data = self.rows.load_test(self.train_data)
        if self._tokenizer is None:
            self._tokenizer = AutoTokenizer.from_pretrained(resolve_model_name_or_path(self.tokenizer_name))

    # ----------------------------------------------------------------- loaders
    @property
    def tokenizer(self) -> PreTrainedTokenizerBase:
        """The loaded tokenizer (after ``setup``)."""
        if self._tokenizer is None:
            raise RuntimeError("call setup() before using the tokenizer or the dataloaders")
        return self._tokenizer

    def train_batch_sampler(self) -> EpochBatchSampler:
        """A batch sampler over the training rows, of the kind chosen by :meth:`bind_loss`."""
        data = self._require(self.train_data, "train")
        size = self.batching.batch_size
        if self._sampler_name == "pk":
            return PKBatchSampler(data.labels, size, self.batching.samples_per_label, self.seed)
        if self._sampler_name == "no_duplicates":
            return NoDuplicatesBatchSampler(data.row_texts(), size, self.seed)
        lengths = [sum(len(t) for t in row) for row in data.row_texts()] if self.batching.group_by_length else None
        return RandomBatchSampler(len(data), size, self.seed, lengths=lengths)

    def train_dataloader(self) -> DataLoader:
        """Training batches; the sampler reshuffles (and ``noise`` redraws) every epoch, seeded by ``seed``."""
        data = self._require(self.train_data, "train")
        sampler = self.train_batch_sampler()
        if self.trainer is not None:
            sampler.set_epoch(self.trainer.current_epoch)  # keeps the sequence on resume / reload
        if self._resume_state is not None and self._resume_state["epoch"] == sampler.epoch:
            sampler.load_state_dict(self._resume_state)
        self._resume_state = None
        self._train_sampler = sampler
        options = self.rows.options
        if options.noise is not None:
            noisy = NoisyTextDataset(data, options.deletion_ratio, self.seed)
            collator = DenoisingCollator(self.tokenizer, self.max_seq_length)
            return self._loader(noisy, collator, EpochTaggedBatchSampler(sampler))
        return self._loader(data, TokenizingCollator(self.tokenizer, self.train_format, self.max_seq_length), sampler)

    def state_dict(self) -> dict[str, int]:
        """Position of the training batches, which Lightning stores in checkpoints (empty before training).

        While fitting, the position is the trainer's: the loader draws batches ahead of the training
        step (prefetching, workers), so the sampler's own count would skip batches never trained on.
        """
        if self._train_sampler is None:
            return {}
        trained = batches_trained_this_epoch(self.trainer) if self.trainer is not None else None
        if trained is not None:
            return {"epoch": self.trainer.current_epoch, "batches_yielded": trained}
        return self._train_sampler.state_dict()

    def load_state_dict(self, state_dict: dict[str, int]) -> None:
        """Resume the training batches from a :meth:`state_dict` (``trainer.fit(ckpt_path=...)`` calls it).

        The next training loader yields the rest of the saved epoch, in the same order, when the trainer
        resumes in that epoch; a checkpoint from the end of an epoch starts the next one as usual.
        """
        self._resume_state = dict(state_dict) if state_dict else None

    def val_dataloader(self) -> DataLoader | list:
        """Validation batches in file order, all rows (an empty list without validation data)."""
        return [] if self.val_data is None else self._eval_loader(self.val_data)

    def test_dataloader(self) -> DataLoader | list:
        """Test batches in file order, all rows (an empty list without test data)."""
        return [] if self.test_data is None else self._eval_loader(self.test_data)

    def _eval_loader(self, data: TextDataset) -> DataLoader:
        return self._loader(data, TokenizingCollator(self.tokenizer, data.format, self.max_seq_length))

    def _loader(
        self,
        data: Dataset,
        collator: Callable[[list], TokenizedBatch],
        batch_sampler: Sampler[list] | None = None,
    ) -> DataLoader:
        # Without a batch sampler: fixed order, every row (no shuffle, no drop_last) for evaluation.
        workers = self.batching.num_workers
        return DataLoader(
            data,
            batch_size=self.batching.eval_batch_size if batch_sampler is None else 1,
            batch_sampler=batch_sampler,
            collate_fn=collator,
            num_workers=workers,
            persistent_workers=workers > 0,
            # An own generator: starting an iterator (every epoch, every validation) then leaves the global
            # RNG untouched, so dropout draws the same masks whether or not a run was resumed in between.
            generator=torch.Generator().manual_seed(self.seed),
        )

    @staticmethod
    def _require(data: TextDataset | None, split: str) -> TextDataset:
        if data is None:
            raise RuntimeError(f"no {split} data: call setup() first")
        return data
