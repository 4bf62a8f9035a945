"""CachedMultipleNegativesSymmetricRankingLoss: the loss computation equals sentence-transformers 6.2's.

Its gradient-cached training step equals the uncached loss's (tests/lightning_modules/strategies/
test_gradient_cache.py).
"""

from __future__ import annotations

import warnings

import pytest
from sentence_transformers import util
from sentence_transformers.sentence_transformer import losses as st

from lightning_modules.losses.cached_multiple_negatives_symmetric_ranking import (
    CachedMultipleNegativesSymmetricRankingLoss,
)
from tests.lightning_modules.losses.st_reference import FakeSentenceTransformer, assert_parity, embeddings

ST_SIMILARITIES = {"cosine_similarity": util.cos_sim, "dot": util.dot_score}


@pytest.mark.parametrize("n_columns", [2, 3])
@pytest.mark.parametrize("mini_batch_size", [4, 10])
@pytest.mark.parametrize(("similarity", "scale"), [("cosine_similarity", 20.0), ("dot", 1.0)])
def test_parity_with_sentence_transformers(similarity, scale, mini_batch_size, n_columns):
    ours = CachedMultipleNegativesSymmetricRankingLoss(scale=scale, similarity_fct=similarity)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # deprecated in 6.2 in favour of the general class
        reference = st.CachedMultipleNegativesSymmetricRankingLoss(
            FakeSentenceTransformer("student"),
            scale=scale,
            similarity_fct=ST_SIMILARITIES[similarity],
            mini_batch_size=mini_batch_size,
        )

    def st_loss(e):
        return reference.calculate_loss([list(column.split(mini_batch_size)) for column in e])

    assert_parity(lambda e: ours(e, None).loss, st_loss, embeddings(n_columns))


def test_invalid_token_budget():
    with pytest.raises(ValueError, match="mini_batch_num_tokens must be a positive integer or None"):
        CachedMultipleNegativesSymmetricRankingLoss(mini_batch_num_tokens=-1)
