"""MTEB ``ModelMeta`` for a losslab encoder: identity, size, and what it was trained from and on."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from mteb.models.model_meta import ModelMeta, ScoringFunction

from lightning_modules.encoders.hf_encoder import HFEncoder

# sentence-transformers' similarity names that MTEB scores itself; others (euclidean, manhattan) are left
# unset, so MTEB falls back to cosine.
_SCORING = {"cosine": ScoringFunction.COSINE, "dot": ScoringFunction.DOT_PRODUCT}
# Built-in datasets → the MTEB tasks built from the same data (MTEB's ``training_datasets`` names the tasks a
# model has seen data of, to flag contaminated zero-shot numbers). A dataset without one keeps its own name.
_MTEB_TASKS_OF_DATASET: dict[str, tuple[str, ...]] = {
    "stsb": ("STSBenchmark",),
    "sick": ("SICK-R",),
    "banking77": ("Banking77Classification", "Banking77Clustering"),
    "trec": ("TRECClustering",),
    "trec_fine": ("TRECClustering",),
    "msrp": ("MSRPPairClassification",),
}


@dataclass(frozen=True)
class ModelProvenance:
    """What a fine-tuned model comes from.

    Attributes:
        adapted_from: The base model (Hub id or path) training started from.
        training_datasets: Names of the datasets trained on (built-in names or MTEB task names).
    """

    adapted_from: str | None = None
    training_datasets: frozenset[str] | None = None


def mteb_training_datasets(names: Iterable[str]) -> set[str]:
    """MTEB task names for the datasets trained on: ``stsb`` → ``STSBenchmark``, unknown names kept as given."""
    return {task for name in names for task in _MTEB_TASKS_OF_DATASET.get(name, (name,))}


def run_model_name(run_dir: str | Path) -> str:
    """The MTEB model name of a run: ``losslab/<parent>-<run>``.

    ``runs/quickstart/20250101-1200`` → ``losslab/quickstart-20250101-1200``; a grid cell
    ``runs/<grid>/<cell>`` → ``losslab/<grid>-<cell>``.
    """
    path = Path(run_dir).resolve()
    parts = [p for p in (path.parent.name, path.name) if p and p not in ("runs", ".")]
    return "losslab/" + "-".join(parts).replace("/", "-").replace(" ", "_")


def build_model_meta(
    encoder: HFEncoder, name: str, revision: str, provenance: ModelProvenance | None = None
) -> ModelMeta:
    """The ``ModelMeta`` MTEB files results under (``model_meta.json``), filled from the encoder itself.

    Args:
        encoder: The encoder evaluated.
        name: ``organisation/name``.
        revision: Identifies these weights (a Hub commit, a content hash, a run id + step).
        provenance: Base model and training datasets, for fine-tuned models.
    """
    provenance = provenance or ModelProvenance()
    embeddings = encoder.transformer.get_input_embeddings()
    datasets = provenance.training_datasets
    # Enums, not strings: ModelMeta.model_copy skips the validator that would convert them.
    return ModelMeta.create_empty(
        overwrites={
            "name": name,
            "revision": revision,
            "similarity_fn_name": _SCORING.get(encoder.similarity_fn_name or "cosine"),
            "embed_dim": encoder.embedding_dim,
            "max_tokens": encoder.max_seq_length,
            "n_parameters": sum(p.numel() for p in encoder.parameters()),
            "n_embedding_parameters": embeddings.weight.numel() if embeddings is not None else None,
            "framework": ["PyTorch", "Sentence Transformers"],
            "modalities": ["text"],
            "open_weights": True,
            "use_instructions": any(encoder.prompts.values()),
            "adapted_from": provenance.adapted_from,
            "training_datasets": mteb_training_datasets(datasets) if datasets is not None else None,
        }
    )
