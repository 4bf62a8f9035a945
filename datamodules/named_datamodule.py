"""A DataModule for the built-in datasets of the data directory, by name."""

from __future__ import annotations

from core.model_resolution import DEFAULT_MODEL
from core.sentence_embedder import SentenceEmbedder
from datamodules.conversions import ConversionName
from datamodules.dataset_catalog import CATALOG, DatasetName
from datamodules.distillation import DistillTarget
from datamodules.embedding_datamodule import EmbeddingDataModule
from datamodules.noisy_text_dataset import NoiseName
from datamodules.sampler_choice import SamplerName


class NamedDataModule(EmbeddingDataModule):
    """One of the built-in datasets, with its natural format, splits and columns (see ``dataset_catalog``).

    ==============  ===================================  =======================  ==================
    name            training rows (format)               validation               test
    ==============  ===================================  =======================  ==================
    stsb            stsb/train.csv (scored_pair, 0–5)    stsb/dev.csv             stsb/test.csv
    sick            sick/train.csv (scored_pair, 1–5)    sick/trial.csv           sick/test.csv
    trec(_fine)     trec/train.csv (labeled, 6 / 50)     10% stratified of train  trec/test.csv
    banking77       banking77/train.csv (labeled, 77)    10% stratified of train  banking77/test.csv
    msrp            msrp/train.csv (binary_pair)         msrp/val.csv             msrp/test.csv
    snli_pairs      snli/dev.csv (nli: needs conversion) snli/test_triplets.csv   —
    snli_triplets   snli/dev_triplets.csv (triplet)      snli/test_triplets.csv   —
    ==============  ===================================  =======================  ==================

    Args:
        name: The dataset.
        conversion: Named conversion of the training rows (``snli_pairs`` needs ``nli_to_triplets`` or
            ``nli_to_positive_pairs``).
        score_threshold: Threshold on the raw score scale for ``scored_to_*`` conversions.
        normalize_scores: Map scores from the dataset's range to [0, 1] (CosineSimilarityLoss).
        drop_duplicates: Drop exact duplicate rows instead of only warning about them.
        noise: ``token_deletion``: TSDAE noise on single-sentence training rows (redrawn every epoch, seeded).
        deletion_ratio: Probability of deleting each word under ``noise``.
        distill: ``embeddings`` (single sentences → teacher embeddings, MSELoss) or ``margins`` (triplets →
            teacher margins, MarginMSELoss).
        teacher: The model that labels rows for ``distill`` and finds the negatives of
            ``labels_to_hard_triplets`` (any ``SentenceEmbedder``, e.g.
            ``lightning_modules.encoders.teacher_encoder.TeacherEncoder``); its embeddings are computed once,
            at setup, and cached on disk. Required by those options only.
        teacher_cache_dir: Cache directory of teacher embeddings (``None``: ``$LOSSLAB_CACHE_DIR`` or
            ``~/.cache/losslab``).
        tokenizer: Tokenizer name or path (linked to the encoder by the CLI).
        max_seq_length: Truncation length in tokens (linked to the encoder by the CLI).
        batch_size: Training batch size.
        eval_batch_size: Validation/test batch size.
        num_workers: DataLoader worker processes.
        seed: Seed of splits, conversions and per-epoch sampling.
        sampler: ``auto`` (what the loss needs), ``random``, ``pk`` or ``no_duplicates``.
        samples_per_label: K of P×K sampling.
        group_by_length: Group similar lengths into batches (random sampler only).
        data_dir: The data directory; ``None`` reads ``$LOSSLAB_DATA_DIR``.
    """

    def __init__(
        self,
        name: DatasetName,
        conversion: ConversionName | None = None,
        score_threshold: float | None = None,
        normalize_scores: bool = False,
        drop_duplicates: bool = False,
        noise: NoiseName | None = None,
        deletion_ratio: float = 0.6,
        distill: DistillTarget | None = None,
        teacher: SentenceEmbedder | None = None,
        teacher_cache_dir: str | None = None,
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
    ) -> None:
        if name not in CATALOG:
            raise ValueError(f"name={name!r} is not a built-in dataset; expected one of {sorted(CATALOG)}")
        self.name = name
        super().__init__(
            source=CATALOG[name].source(drop_duplicates),
            tokenizer=tokenizer,
            max_seq_length=max_seq_length,
            batch_size=batch_size,
            eval_batch_size=eval_batch_size,
            num_workers=num_workers,
            seed=seed,
            sampler=sampler,
            samples_per_label=samples_per_label,
            group_by_length=group_by_length,
            data_dir=data_dir,
            conversion=conversion,
            score_threshold=score_threshold,
            normalize_scores=normalize_scores,
            noise=noise,
            deletion_ratio=deletion_ratio,
            distill=distill,
            teacher=teacher,
            teacher_cache_dir=teacher_cache_dir,
        )
