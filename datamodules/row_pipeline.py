"""Reads a source's splits and turns them into the rows a loss trains and is validated on."""

from __future__ import annotations

import numpy as np

from core.batch_formats import BatchFormat
from datamodules.conversion import get_conversion
from datamodules.conversion_options import ConversionOptions
from datamodules.distillation import get_distillation
from datamodules.noisy_text_dataset import check_noise
from datamodules.source_format import NLI, describe_source
from datamodules.sources.data_source import DataSource
from datamodules.splits import split_off
from datamodules.teacher_embeddings import TeacherEmbeddings
from datamodules.text_dataset import TextDataset

# Conversion applied to NLI validation/test rows so they can be evaluated (triplet accuracy).
_NLI_EVAL_CONVERSION = "nli_to_triplets"


class RowPipeline:
    """The source's rows → conversion → teacher labels → score normalisation, checked when built.

    Args:
        source: Where the rows come from.
        options: The conversion options.
        teacher: Cached teacher embeddings, for ``distill`` and teacher-mined conversions.
        seed: Seed of the validation split and of the conversions.

    Raises:
        ValueError: When the options do not fit the source (one line naming the option and what it needs).
    """

    def __init__(
        self, source: DataSource, options: ConversionOptions, teacher: TeacherEmbeddings | None, seed: int
    ) -> None:
        self.source = source
        self.options = options
        self.teacher = teacher
        self.seed = seed
        self.conversion = None if options.name is None else get_conversion(options.name)
        natural = source.train_schema.format
        if self.conversion is not None:
            self.conversion.check(natural, options.score_threshold)
        elif natural == NLI:
            raise ValueError(
                f"{source.description}: {describe_source(NLI)} data cannot be trained on directly; "
                "set conversion.name to nli_to_triplets or nli_to_positive_pairs"
            )
        if options.normalize_scores and source.train_schema.score_range is None:
            raise ValueError("conversion.normalize_scores=True needs the source's score_range=(low, high)")
        converted = natural if self.conversion is None else self.conversion.output
        self.distillation = None if options.distill is None else get_distillation(options.distill)
        if self.distillation is not None:
            self.distillation.check(converted)
        self.train_format: BatchFormat = converted if self.distillation is None else self.distillation.output
        check_noise(options.noise, options.deletion_ratio, self.train_format, source.description)
        needs_teacher = self.distillation is not None or (self.conversion is not None and self.conversion.needs_teacher)
        if needs_teacher and teacher is None:
            option = (
                f"conversion.distill={options.distill!r}"
                if self.distillation is not None
                else f"conversion.name={options.name!r}"
            )
            raise ValueError(
                f"{option} needs a teacher model: set teacher (YAML: teacher: {{class_path: "
                "lightning_modules.encoders.teacher_encoder.TeacherEncoder, init_args: {model_name_or_path: ...}})"
            )

    def describe_options(self) -> list[str]:
        """``name=value`` descriptions of the options in use."""
        teacher = f" (teacher {self.teacher.teacher!r})" if self.teacher is not None else ""
        options = self.options
        return [
            f"conversion={options.name}{teacher if self.conversion.needs_teacher else ''}" if self.conversion else "",
            f"distill={options.distill}{teacher}" if self.distillation else "",
            f"noise={options.noise} (deletion_ratio={options.deletion_ratio})" if options.noise else "",
        ]

    def _label_names(self, train: TextDataset | None = None) -> list[str] | None:
        if self.source.label_names is not None:
            return list(self.source.label_names)
        return None if train is None else train.label_names

    def load_train_and_val(self) -> tuple[TextDataset, TextDataset | None]:
        """The training rows (converted, labelled, normalised) and the validation rows, if any."""
        train = self.source.load("train", self._label_names())
        val = None
        if self.source.val_fraction:
            train, val = split_off(train, self.source.val_fraction, self.seed)
        elif self.source.has_split("val"):
            val = self.source.load("val", self._label_names(train))
        if self.conversion is not None:
            train = self.conversion.apply(train, self.seed, self.options.score_threshold, self.teacher)
        if self.distillation is not None:
            train = self.distillation.apply(train, self.teacher)
        return self._normalized(train), None if val is None else self.for_evaluation(val)

    def load_test(self, train: TextDataset | None) -> TextDataset | None:
        """The test rows, if the source has a test split."""
        if not self.source.has_split("test"):
            return None
        return self.for_evaluation(self.source.load("test", self._label_names(train)))

    def for_evaluation(self, data: TextDataset) -> TextDataset:
        """Validation/test rows as evaluated: NLI pairs become triplets; scores normalised like training."""
        if data.format == NLI:
            data = get_conversion(_NLI_EVAL_CONVERSION).apply(data, self.seed)
        return self._normalized(data)

    def _normalized(self, data: TextDataset) -> TextDataset:
        if not self.options.normalize_scores or data.format is not BatchFormat.SCORED_PAIR:
            return data
        low, high = self.source.train_schema.score_range
        labels = ((data.labels - low) / (high - low)).astype(np.float32)
        return TextDataset(data.format, data.columns, labels, data.label_names, name=f"{data.name} (scores -> [0, 1])")
