"""Base DataModule: reads, validates and converts the splits; picks the sampler the loss needs."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytorch_lightning as pl
from pytorch_lightning.trainer.states import TrainerFn
from pytorch_lightning.utilities import rank_zero_info, rank_zero_warn
from torch.utils.data import DataLoader, Dataset, Sampler
from transformers import AutoTokenizer, PreTrainedTokenizerBase

from core.batch_formats import BatchFormat, BatchSampling, TokenizedBatch
from core.model_resolution import DEFAULT_MODEL, resolve_model_name_or_path
from core.sentence_embedder import SentenceEmbedder
from datamodules.collators import DenoisingCollator, TokenizingCollator
from datamodules.conversions import ConversionName, get_conversion
from datamodules.data_source import DataSource
from datamodules.distillation import DistillTarget, get_distillation
from datamodules.errors import DataValidationError
from datamodules.noisy_text_dataset import NoiseName, NoisyTextDataset, check_noise
from datamodules.sampler_choice import SAMPLER_FOR, SamplerName, SamplingLoss, check_pk_config, check_pk_labels
from datamodules.samplers import (
    EpochBatchSampler,
    EpochTaggedBatchSampler,
    NoDuplicatesBatchSampler,
    PKBatchSampler,
    RandomBatchSampler,
)
from datamodules.source_format import NLI, describe_source
from datamodules.splits import split_off
from datamodules.table_schema import TableSchema
from datamodules.teacher_embeddings import TeacherEmbeddings
from datamodules.text_dataset import TextDataset

# Conversion applied to NLI validation/test rows so they can be evaluated (triplet accuracy).
_NLI_EVAL_CONVERSION = "nli_to_triplets"


class EmbeddingDataModule(pl.LightningDataModule):
    """Serves :class:`~core.batch_formats.TokenizedBatch` batches of one declared format.

    Subclasses only describe their files (a :class:`DataSource`); this class reads and validates them in
    ``setup``, applies the conversion, then the teacher labels (``distill``), and builds the loaders.
    Training batches use the sampler the loss needs (see :meth:`bind_loss`), with ``noise`` applied on
    the fly; validation and test batches keep file order and every row and are never noised or distilled.
    Checkpoints carry the position in the training batches (:meth:`state_dict`), so resuming from a
    mid-epoch checkpoint continues with exactly the batches that epoch had left.

    Args:
        source: Files and schemas of the splits.
        tokenizer: Tokenizer name or path (the CLI links it to the encoder's ``model_name_or_path``).
        max_seq_length: Truncation length in tokens (linked to the encoder).
        batch_size: Training batch size.
        eval_batch_size: Validation/test batch size.
        num_workers: DataLoader worker processes.
        seed: Seed of splits, conversions and the per-epoch sampling.
        sampler: ``auto`` (what the loss needs), ``random``, ``pk`` (P×K) or ``no_duplicates``.
        samples_per_label: K of P×K sampling.
        group_by_length: Group similar lengths into batches (random sampler only) to cut padding.
        data_dir: Directory relative file paths start from; ``None`` reads ``$LOSSLAB_DATA_DIR``.
        conversion: Named conversion of the training rows (changes ``train_format``).
        score_threshold: Threshold on the raw score scale for ``scored_to_*`` conversions.
        normalize_scores: Map scores from ``score_range`` to [0, 1] (e.g. for CosineSimilarityLoss);
            CoSENT and AnglE work on raw scores.
        noise: ``token_deletion``: serve single sentences with TSDAE's noise (each word deleted with
            probability ``deletion_ratio``, at least one kept; redrawn every epoch, seeded), the originals
            kept as the decoder targets. Needs single-sentence training rows.
        deletion_ratio: Probability of deleting each word under ``noise``.
        distill: Label the training rows with ``teacher``: ``embeddings`` turns single sentences into
            (sentence, teacher embedding) rows (MSELoss); ``margins`` turns triplets into (query, passage1,
            passage2, teacher margin) rows (MarginMSELoss).
        teacher: The model that labels rows for ``distill`` and finds the negatives of
            ``labels_to_hard_triplets`` (any ``SentenceEmbedder``, e.g.
            ``lightning_modules.encoders.teacher_encoder.TeacherEncoder``); its embeddings are computed once,
            at setup, and cached on disk. Required by those options only.
        teacher_cache_dir: Cache directory of teacher embeddings; ``None`` uses ``$LOSSLAB_CACHE_DIR`` or
            ``~/.cache/losslab``.
    """

    def __init__(
        self,
        source: DataSource,
        tokenizer: str = DEFAULT_MODEL,
        max_seq_length: int = 256,
        batch_size: int = 32,
        eval_batch_size: int = 64,
        num_workers: int = 0,
        seed: int = 42,
        sampler: SamplerName = "auto",
        samples_per_label: int = 2,
        group_by_length: bool = False,
        data_dir: str | None = None,
        conversion: ConversionName | None = None,
        score_threshold: float | None = None,
        normalize_scores: bool = False,
        noise: NoiseName | None = None,
        deletion_ratio: float = 0.6,
        distill: DistillTarget | None = None,
        teacher: SentenceEmbedder | None = None,
        teacher_cache_dir: str | None = None,
    ) -> None:
        super().__init__()
        for name, value in (
            ("max_seq_length", max_seq_length),
            ("batch_size", batch_size),
            ("eval_batch_size", eval_batch_size),
        ):
            if value < 1:
                raise ValueError(f"{name}={value}: expected a positive integer")
        if num_workers < 0:
            raise ValueError(f"num_workers={num_workers}: expected >= 0")
        if sampler not in ("auto", *SAMPLER_FOR.values()):
            raise ValueError(f"sampler={sampler!r}: expected one of auto, random, pk, no_duplicates")
        self.source = source
        self.tokenizer_name = tokenizer
        self.max_seq_length = max_seq_length
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size
        self.num_workers = num_workers
        self.seed = seed
        self.sampler = sampler
        self.samples_per_label = samples_per_label
        self.group_by_length = group_by_length
        self.data_dir = data_dir
        self.conversion = None if conversion is None else get_conversion(conversion)
        self.score_threshold = score_threshold
        self.normalize_scores = normalize_scores
        natural = source.train_schema.format
        if self.conversion is not None:
            self.conversion.check(natural, score_threshold)
        elif natural == NLI:
            raise ValueError(
                f"{source.description}: {describe_source(NLI)} data cannot be trained on directly; "
                "set conversion to nli_to_triplets or nli_to_positive_pairs"
            )
        if normalize_scores and source.train_schema.score_range is None:
            raise ValueError("normalize_scores=True needs score_range=(low, high) to map scores to [0, 1]")
        converted = natural if self.conversion is None else self.conversion.output
        self.distillation = None if distill is None else get_distillation(distill)
        if self.distillation is not None:
            self.distillation.check(converted)
        self._train_format: BatchFormat = converted if self.distillation is None else self.distillation.output
        check_noise(noise, deletion_ratio, self.train_format, self.source.description)
        self.noise = noise
        self.deletion_ratio = deletion_ratio
        needs_teacher = self.distillation is not None or (self.conversion is not None and self.conversion.needs_teacher)
        if needs_teacher and teacher is None:
            option = f"distill={distill!r}" if self.distillation is not None else f"conversion={conversion!r}"
            raise ValueError(
                f"{option} needs a teacher model: set teacher (YAML: teacher: {{class_path: "
                "lightning_modules.encoders.teacher_encoder.TeacherEncoder, init_args: {model_name_or_path: ...}})"
            )
        self.teacher = None if teacher is None else TeacherEmbeddings(teacher, teacher_cache_dir)
        self._sampler_name = "random" if sampler == "auto" else sampler
        self.sampler_choice = f"{self._sampler_name} sampler (sampler={sampler!r}; no loss bound)"
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
        return self._train_format

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
        conversion = f"conversion={self.conversion.name}" if self.conversion else ""
        if self.conversion and self.conversion.needs_teacher:
            conversion += f" (teacher {self.teacher.teacher!r})"
        options = [
            conversion,
            f"distill={self.distillation.name} (teacher {self.teacher.teacher!r})" if self.distillation else "",
            f"noise={self.noise} (deletion_ratio={self.deletion_ratio})" if self.noise else "",
        ]
        args = ", ".join([self.source.description, *filter(None, options)])
        return f"{type(self).__name__}({args}) -> {self.train_format.describe()}"

    def bind_loss(self, loss: SamplingLoss) -> None:
        """Check the loss can train on this data and pick the sampler it needs.

        Called by the CLI after instantiation, before training. With ``sampler="auto"`` the sampler
        follows ``loss.sampling``; an explicit sampler that cannot satisfy the loss is refused.

        Args:
            loss: The training loss.

        Raises:
            ValueError: If the loss does not accept ``train_format`` or the sampler contradicts its needs.
        """
        loss_name = type(loss).__name__
        try:
            loss.check_format(self.train_format)
        except ValueError as err:
            raise ValueError(f"data {self.describe()}: {err}") from None
        needed = SAMPLER_FOR[loss.sampling]
        if self.sampler == "auto":
            self._sampler_name = needed
            reason = f"{loss_name} needs {loss.sampling.value} batches"
        elif loss.sampling is not BatchSampling.RANDOM and self.sampler != needed:
            raise ValueError(
                f"sampler={self.sampler!r} cannot serve {loss_name}, "
                f"which needs {loss.sampling.value} batches; "
                f"use sampler='{needed}' or 'auto'"
            )
        else:
            reason = f"set explicitly (sampler={self.sampler!r}); {loss_name} accepts it"
        if self._sampler_name == "pk":
            self._check_pk_config()
            if self.train_data is not None:
                self._check_pk_data(self.train_data)
        detail = (
            f" (P={self.batch_size // self.samples_per_label} labels x K={self.samples_per_label})"
            if self._sampler_name == "pk"
            else ""
        )
        self.sampler_choice = f"{self._sampler_name} sampler{detail}: {reason}"
        rank_zero_info(f"{type(self).__name__}: using the {self.sampler_choice}")
        if self.group_by_length and self._sampler_name != "random":
            rank_zero_warn(
                f"group_by_length=True is ignored: it applies to the random sampler, not {self._sampler_name}"
            )

    def _check_pk_config(self) -> None:
        check_pk_config(self.train_format, self.describe(), self.batch_size, self.samples_per_label)

    def _check_pk_data(self, data: TextDataset) -> None:
        check_pk_labels(data.labels, data.label_names, data.name, self.samples_per_label)

    # ----------------------------------------------------------------- loading
    def prepare_data(self) -> None:
        """Fail fast on missing files (nothing is downloaded)."""
        for split, path in self.source.paths(self.data_dir).items():
            if not path.is_file():
                raise DataValidationError(f"{path}: {split} file not found")

    def setup(self, stage: str | None = None) -> None:
        """Read, validate and convert the splits ``stage`` needs (all of them when ``stage`` is None)."""
        if self.train_data is None:
            self._load_train_and_val()
        if stage in (None, "test") and self.test_data is None and self.source.test_file is not None:
            schema = self.source.test_schema or self.source.train_schema
            self.test_data = self._for_evaluation(self._load_split("test", schema, self._fixed_label_names()))
        if self._tokenizer is None:
            self._tokenizer = AutoTokenizer.from_pretrained(resolve_model_name_or_path(self.tokenizer_name))

    def _fixed_label_names(self) -> list[str] | None:
        if self.source.label_names is not None:
            return list(self.source.label_names)
        return None if self.train_data is None else self.train_data.label_names

    def _load_split(self, split: str, schema: TableSchema, label_names: list[str] | None) -> TextDataset:
        """Read and validate split ``split`` (``train``, ``val`` or ``test``) of the source.

        Subclasses whose splits are not files (a Hugging Face dataset) override it.
        """
        return schema.load(self.source.paths(self.data_dir)[split], label_names)

    def _load_train_and_val(self) -> None:
        train = self._load_split("train", self.source.train_schema, self._fixed_label_names())
        val = None
        if self.source.val_split:
            train, val = split_off(train, self.source.val_split, self.seed)
        elif self.source.val_file is not None:
            schema = self.source.val_schema or self.source.train_schema
            val = self._load_split("val", schema, self._fixed_label_names() or train.label_names)
        if self.conversion is not None:
            train = self.conversion.apply(train, self.seed, self.score_threshold, self.teacher)
        if self.distillation is not None:
            train = self.distillation.apply(train, self.teacher)
        self.train_data = self._normalized(train)
        self.val_data = None if val is None else self._for_evaluation(val)
        if self._sampler_name == "pk":
            self._check_pk_data(self.train_data)

    def _for_evaluation(self, data: TextDataset) -> TextDataset:
        if data.format == NLI:
            data = get_conversion(_NLI_EVAL_CONVERSION).apply(data, self.seed)
        return self._normalized(data)

    def _normalized(self, data: TextDataset) -> TextDataset:
        if not self.normalize_scores or data.format is not BatchFormat.SCORED_PAIR:
            return data
        low, high = self.source.train_schema.score_range
        labels = ((data.labels - low) / (high - low)).astype(np.float32)
        return TextDataset(data.format, data.columns, labels, data.label_names, name=f"{data.name} (scores -> [0, 1])")

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
        if self._sampler_name == "pk":
            return PKBatchSampler(data.labels, self.batch_size, self.samples_per_label, self.seed)
        if self._sampler_name == "no_duplicates":
            return NoDuplicatesBatchSampler(data.row_texts(), self.batch_size, self.seed)
        lengths = [sum(len(t) for t in row) for row in data.row_texts()] if self.group_by_length else None
        return RandomBatchSampler(len(data), self.batch_size, self.seed, lengths=lengths)

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
        if self.noise is not None:
            noisy = NoisyTextDataset(data, self.deletion_ratio, self.seed)
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
        if self.trainer is not None and self.trainer.state.fn == TrainerFn.FITTING:
            trained = self.trainer.fit_loop.epoch_loop.batch_progress.current.ready
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
        return DataLoader(
            data,
            batch_size=self.eval_batch_size if batch_sampler is None else 1,
            batch_sampler=batch_sampler,
            collate_fn=collator,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
        )

    @staticmethod
    def _require(data: TextDataset | None, split: str) -> TextDataset:
        if data is None:
            raise RuntimeError(f"no {split} data: call setup() first")
        return data
