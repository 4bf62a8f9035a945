"""DenoisingAutoEncoderLoss (TSDAE): reconstruct the original sentence from the embedding of a noisy copy."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from torch import Tensor, nn
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer, PreTrainedTokenizerBase

from core.batch_formats import BatchFormat, BatchSampling, TokenizedBatch
from core.model_resolution import resolve_model_name_or_path
from lightning_modules.losses.base import EmbeddingLoss, LossOutput

if TYPE_CHECKING:
    from lightning_modules.encoders.hf_encoder import HFEncoder


def tie_encoder_to_decoder(encoder: nn.Module, decoder_base: nn.Module) -> int:
    """Make the encoder use the decoder's parameters wherever both have a parameter of the same name.

    The decoder's values are first set to the encoder's, so the encoder keeps its current weights. The
    direction is sentence-transformers': the decoder keeps its own internal ties (LM head to word
    embeddings); the decoder-only cross-attention stays untied.

    Args:
        encoder: The encoder's transformer.
        decoder_base: The decoder's base model (e.g. ``BertLMHeadModel.bert``).

    Returns:
        The number of tied parameters.
    """
    encoder_modules = dict(encoder.named_modules())
    tied = 0
    for name, param in decoder_base.named_parameters():
        module_name, _, attr = name.rpartition(".")
        module = encoder_modules.get(module_name)
        if module is not None and isinstance(getattr(module, attr, None), nn.Parameter):
            param.data.copy_(getattr(module, attr).data)
            setattr(module, attr, param)
            tied += 1
    return tied


class DenoisingAutoEncoderLoss(EmbeddingLoss):
    r"""TSDAE: a decoder must reconstruct each original sentence from the encoder's embedding of a noisy copy.

    .. math::
        \mathcal{L} = -\frac{1}{N}\sum_{i,t} \log p_{\text{dec}}\big(x_{i,t} \mid x_{i,<t},\; f(\tilde{x}_i)\big)

    over the non-padding target tokens, where :math:`\tilde{x}_i` is the noisy sentence and the decoder
    cross-attends to the single sentence embedding :math:`f(\tilde{x}_i)` (as sentence-transformers).

    Args:
        decoder_name_or_path: The decoder checkpoint when ``tie_encoder_decoder`` is ``False`` (any model
            with a causal-LM head that supports cross-attention); must be ``None`` when tied.
        tie_encoder_decoder: Build the decoder from the encoder's own checkpoint and share all weights
            but the cross-attention (the TSDAE default; halves the parameters).

    Inputs:
        +--------------------------------------------+--------+
        | Texts                                      | Labels |
        +============================================+========+
        | single (noisy) sentences + original texts  | none   |
        +--------------------------------------------+--------+

    Requirements:
        The DataModule tokenises the *noisy* sentences as the batch's single column and keeps the
        *original* sentences in ``batch.texts[0]`` (the decoder targets); TSDAE's noise deletes about
        60% of the words. The LightningModule must call :meth:`bind_encoder` once before training; it
        loads the decoder and ties it to the encoder.

    Statistics:
        ``target_tokens`` (number of predicted tokens in the batch).

    References:
        Wang et al. 2021, TSDAE: Using Transformer-based Sequential Denoising Auto-Encoder for Unsupervised
        Sentence Embedding Learning (https://arxiv.org/abs/2104.06979).

    Example:
        ``loss: {class_path: lightning_modules.losses.denoising_auto_encoder.DenoisingAutoEncoderLoss}``
        with an encoder using ``pooling: cls``.
    """

    accepts: ClassVar[frozenset[BatchFormat]] = frozenset({BatchFormat.SINGLE})
    sampling: ClassVar[BatchSampling] = BatchSampling.RANDOM

    def __init__(self, decoder_name_or_path: str | None = None, tie_encoder_decoder: bool = True) -> None:
        super().__init__()
        if tie_encoder_decoder and decoder_name_or_path is not None:
            raise ValueError("decoder_name_or_path must be None with tie_encoder_decoder=True (the encoder is used)")
        if not tie_encoder_decoder and decoder_name_or_path is None:
            raise ValueError("decoder_name_or_path is required with tie_encoder_decoder=False")
        self.decoder_name_or_path = decoder_name_or_path
        self.tie_encoder_decoder = tie_encoder_decoder
        self.decoder: nn.Module | None = None
        self.tokenizer: PreTrainedTokenizerBase | None = None

    def bind_encoder(self, encoder: HFEncoder) -> None:
        """Load the decoder (cross-attention added) and tie it to ``encoder``.

        Args:
            encoder: The encoder the LightningModule trains.
        """
        path = resolve_model_name_or_path(self.decoder_name_or_path or encoder.model_name_or_path)
        config = AutoConfig.from_pretrained(path)
        config.is_decoder = True
        config.add_cross_attention = True
        if config.hidden_size != encoder.embedding_dim:
            raise ValueError(
                f"the decoder's hidden size ({config.hidden_size}) must equal the encoder's embedding size "
                f"({encoder.embedding_dim})"
            )
        decoder = AutoModelForCausalLM.from_pretrained(path, config=config)
        decoder.train()  # from_pretrained returns eval mode
        tokenizer = encoder.tokenizer if self.tie_encoder_decoder else AutoTokenizer.from_pretrained(path)
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
            decoder.config.pad_token_id = decoder.config.eos_token_id
        if self.tie_encoder_decoder and tie_encoder_to_decoder(encoder.transformer, decoder.base_model) == 0:
            raise ValueError("no encoder weight could be tied to the decoder: are they the same architecture?")
        self.decoder, self.tokenizer = decoder, tokenizer

    def forward(self, embeddings: Sequence[Tensor], labels: Tensor | None) -> LossOutput:
        """Not available: the loss needs the decoder targets, which only :meth:`training_loss` receives."""
        raise NotImplementedError("DenoisingAutoEncoderLoss is computed by training_loss(encoder, batch)")

    def training_loss(self, encoder: HFEncoder, batch: TokenizedBatch) -> LossOutput:
        """Embed the noisy sentences and score the decoder's reconstruction of the originals.

        Args:
            encoder: The model being trained.
            batch: Noisy sentences as the single column, originals in ``batch.texts[0]``.

        Returns:
            The mean token cross-entropy and statistics.
        """
        if self.decoder is None or self.tokenizer is None:
            raise RuntimeError("DenoisingAutoEncoderLoss needs bind_encoder(encoder) before training")
        if not batch.texts:
            raise ValueError("DenoisingAutoEncoderLoss needs the original sentences in batch.texts[0]")
        source = batch.features[0]
        embeddings = encoder(source)
        target_ids = self.tokenizer(
            list(batch.texts[0]),
            padding=True,
            truncation=True,
            max_length=encoder.max_seq_length,
            return_tensors="pt",
        )["input_ids"].to(embeddings.device)
        logits = self.decoder(
            input_ids=target_ids[:, :-1],
            encoder_hidden_states=embeddings[:, None],
            encoder_attention_mask=source["attention_mask"][:, 0:1],
            use_cache=False,
        ).logits
        labels = target_ids[:, 1:]
        pad_id = self.tokenizer.pad_token_id
        loss = nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=pad_id
        )
        return LossOutput(loss, {"target_tokens": (labels != pad_id).sum().float()})
