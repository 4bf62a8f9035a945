import pytest
import torch
from sentence_transformers.sentence_transformer.modules import Pooling

from lightning_modules.encoders.pooling import POOLING_MODES, pool, pooling_modes

LENGTHS = [7, 3, 5, 1]


def _batch(padding_side: str, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    tokens = torch.randn(len(LENGTHS), max(LENGTHS), 6, generator=gen).to(dtype)
    mask = torch.zeros(len(LENGTHS), max(LENGTHS), dtype=torch.long)
    for row, length in enumerate(LENGTHS):
        if padding_side == "right":
            mask[row, :length] = 1
        else:
            mask[row, max(LENGTHS) - length :] = 1
    return tokens, mask


def _reference(tokens, mask, mode, prompt_length):
    features = {"token_embeddings": tokens, "attention_mask": mask}
    if prompt_length is not None:
        features["prompt_length"] = prompt_length
    pooling = Pooling(tokens.shape[-1], pooling_mode=mode, include_prompt=prompt_length is None)
    return pooling(features)["sentence_embedding"]


@pytest.mark.parametrize("mode", [*POOLING_MODES, ("cls", "mean", "max")], ids=str)
@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("prompt_length", [None, 2])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=str)
def test_equals_sentence_transformers_pooling(mode, padding_side, prompt_length, dtype):
    tokens, mask = _batch(padding_side, dtype)
    ours = pool(tokens, mask, mode, prompt_length=prompt_length)
    theirs = _reference(tokens, mask, mode, prompt_length)
    assert ours.dtype == theirs.dtype
    # Same operations in the same order: bit-identical, in bf16 too.
    torch.testing.assert_close(ours, theirs, rtol=0, atol=0)


@pytest.mark.parametrize("mode", [m for m in POOLING_MODES if m != "lasttoken"])
def test_excluding_the_prompt_changes_the_embedding(mode):
    # A check that could not tell prompt exclusion apart from no exclusion would prove nothing above.
    tokens, mask = _batch("right", torch.float32)
    assert not torch.allclose(pool(tokens, mask, mode, prompt_length=2), pool(tokens, mask, mode))


def test_padding_never_leaks_into_the_embedding():
    tokens, mask = _batch("right", torch.float32)
    noisy = tokens.masked_fill(mask.unsqueeze(-1) == 0, 1e4)
    for mode in POOLING_MODES:
        torch.testing.assert_close(pool(noisy, mask, mode), pool(tokens, mask, mode))


def test_several_modes_concatenate_in_order():
    tokens, mask = _batch("right", torch.float32)
    both = pool(tokens, mask, ["max", "cls"])
    torch.testing.assert_close(both, torch.cat([pool(tokens, mask, "max"), pool(tokens, mask, "cls")], dim=-1))


@pytest.mark.parametrize("bad", ["avg", [], ["mean", "sum"]])
def test_unknown_mode_is_a_clear_error(bad):
    with pytest.raises(ValueError, match="pooling must be one of"):
        pooling_modes(bad)
