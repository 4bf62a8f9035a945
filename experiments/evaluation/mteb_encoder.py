"""An :class:`HFEncoder` as an MTEB encoder (``EncoderProtocol``)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import torch
from mteb.models.abs_encoder import AbsEncoder, get_prompt_name

from experiments.evaluation.model_meta import ModelProvenance, build_model_meta
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

    Texts are de-duplicated and cached by content (and prompt): MTEB encodes each column of a pair task
    separately and SICK repeats most of its sentences, so each distinct text is embedded once per wrapper.
    The cache assumes fixed weights: build a new wrapper after the encoder changes.

    Prompts are chosen as MTEB's ``SentenceTransformerEncoderWrapper`` and sentence-transformers choose them
    for the same model: a prompt named after the task, its type or the prompt type (``query`` /
    ``document``, which sentence-transformers always defines, empty unless the model sets them) wins;
    without one the model's default prompt applies.

    Args:
        encoder: The encoder to evaluate.
        model_name: MTEB model name, ``organisation/name`` (results are filed under it).
        revision: MTEB revision (e.g. a run id + step), so different weights never share result files.
        precision: ``fp32``, or ``bf16`` to run the transformer under bfloat16 autocast.
        provenance: Base model and training datasets, filled into MTEB's ``ModelMeta``.
    """

    def __init__(
        self,
        encoder: HFEncoder,
        model_name: str,
        revision: str,
        precision: Precision = "fp32",
        provenance: ModelProvenance | None = None,
    ) -> None:
        if "/" not in model_name:
            raise ValueError(f"model_name must look like 'organisation/name', got {model_name!r}")
        if precision not in ("fp32", "bf16"):
            raise ValueError(f"precision must be 'fp32' or 'bf16', got {precision!r}")
        self.model = encoder
        self.precision = precision
        self._cache: dict[tuple[str | None, str], np.ndarray] = {}
        self.mteb_model_meta = build_model_meta(encoder, model_name, revision, provenance)
        # sentence-transformers >= 6 always defines (empty) query and document prompts.
        prompts = {"query": "", "document": "", **encoder.prompts}
        self.model_prompts, _ = AbsEncoder.validate_task_to_prompt_name(prompts, raise_for_invalid_keys=False)

    def _autocast(self) -> contextlib.AbstractContextManager[Any]:
        if self.precision == "fp32":
            return contextlib.nullcontext()
        device_type = next(self.model.parameters()).device.type
        return torch.autocast(device_type=device_type, dtype=torch.bfloat16)

    def embed(self, sentences: list[str], batch_size: int, prompt: str | None = None) -> np.ndarray:
        """Embed ``sentences`` (cached, each distinct text once) as a float32 ``(N, D)`` array.

        Args:
            sentences: Texts.
            batch_size: Sentences per forward pass.
            prompt: Prompt prepended to each text; ``None``: the model's default prompt.
        """
        new = [s for s in dict.fromkeys(sentences) if (prompt, s) not in self._cache]
        if new:
            with eval_mode(self.model), self._autocast():
                vectors = self.model.encode(new, batch_size=batch_size, prompt=prompt).numpy()
            self._cache.update(zip(((prompt, s) for s in new), vectors, strict=True))
        if not sentences:
            return np.empty((0, self.model.embedding_dim), dtype=np.float32)
        return np.stack([self._cache[(prompt, s)] for s in sentences])

    def prompt_for(self, task_metadata: TaskMetadata, prompt_type: PromptType | None) -> str | None:
        """The prompt MTEB would use for this task with the same model in sentence-transformers."""
        name = get_prompt_name(self.model_prompts, task_metadata, prompt_type)
        return self.model_prompts[name] if name is not None else None

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
        prompt = self.prompt_for(task_metadata, prompt_type)
        return self.embed(sentences, batch_size=int(kwargs.get("batch_size", 32)), prompt=prompt)
