"""An :class:`HFEncoder` as an MTEB encoder (``EncoderProtocol``)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import torch
from mteb.models.abs_encoder import AbsEncoder
from mteb.models.model_meta import ModelMeta, ScoringFunction

from lightning_modules.encoders.hf_encoder import HFEncoder

if TYPE_CHECKING:
    from mteb.abstasks.task_metadata import TaskMetadata
    from mteb.types import PromptType
    from torch.utils.data import DataLoader

Precision = Literal["fp32", "bf16"]


@contextlib.contextmanager
def eval_mode(module: torch.nn.Module) -> Iterator[None]:
    """Put ``module`` in eval mode, restoring its previous train/eval mode afterwards."""
    was_training = module.training
    module.eval()
    try:
        yield
    finally:
        module.train(was_training)


class LosslabMTEBEncoder(AbsEncoder):
    """Wraps an :class:`HFEncoder` for ``mteb.evaluate``.

    Texts are de-duplicated and cached by content: MTEB encodes each column of a pair task separately
    and SICK repeats most of its sentences, so each distinct text is embedded once per wrapper. The cache
    assumes fixed weights: build a new wrapper after the encoder changes.

    Args:
        encoder: The encoder to evaluate.
        model_name: MTEB model name, ``organisation/name`` (results are filed under it).
        revision: MTEB revision (e.g. a run id + step), so different weights never share result files.
        precision: ``fp32``, or ``bf16`` to run the transformer under bfloat16 autocast.
    """

    def __init__(self, encoder: HFEncoder, model_name: str, revision: str, precision: Precision = "fp32") -> None:
        if "/" not in model_name:
            raise ValueError(f"model_name must look like 'organisation/name', got {model_name!r}")
        if precision not in ("fp32", "bf16"):
            raise ValueError(f"precision must be 'fp32' or 'bf16', got {precision!r}")
        self.model = encoder
        self.precision = precision
        self._cache: dict[str, np.ndarray] = {}
        # The enum, not the string: ModelMeta.model_copy skips the validator that would convert it.
        self.mteb_model_meta = ModelMeta.create_empty(
            overwrites={
                "name": model_name,
                "revision": revision,
                "similarity_fn_name": ScoringFunction.COSINE,
                "embed_dim": encoder.embedding_dim,
                "max_tokens": encoder.max_seq_length,
                "framework": ["PyTorch"],
                "modalities": ["text"],
            }
        )

    def _autocast(self) -> contextlib.AbstractContextManager[Any]:
        if self.precision == "fp32":
            return contextlib.nullcontext()
        device_type = next(self.model.parameters()).device.type
        return torch.autocast(device_type=device_type, dtype=torch.bfloat16)

    def embed(self, sentences: list[str], batch_size: int) -> np.ndarray:
        """Embed ``sentences`` (cached, each distinct text once) as a float32 ``(N, D)`` array."""
        new = [s for s in dict.fromkeys(sentences) if s not in self._cache]
        if new:
            with eval_mode(self.model), self._autocast():
                vectors = self.model.encode(new, batch_size=batch_size).numpy()
            self._cache.update(zip(new, vectors, strict=True))
        if not sentences:
            return np.empty((0, self.model.embedding_dim), dtype=np.float32)
        return np.stack([self._cache[s] for s in sentences])

    def encode(
        self,
        inputs: DataLoader[Any],
        *,
        task_metadata: TaskMetadata,
        hf_split: str,
        hf_subset: str,
        prompt_type: PromptType | None = None,
        **kwargs: Any,
    ) -> np.ndarray:
        """MTEB's entry point: embed every text of ``inputs`` (batch size from MTEB's ``encode_kwargs``)."""
        sentences = [text for batch in inputs for text in batch["text"]]
        return self.embed(sentences, batch_size=int(kwargs.get("batch_size", 32)))
