"""The inverted index must score exactly like rank-bm25, the reference."""

from __future__ import annotations

import numpy as np
import pytest
import rank_bm25
from hypothesis import given
from hypothesis import strategies as st

from index.bm25 import BM25Index, BM25Params

REFERENCE = {"okapi": rank_bm25.BM25Okapi, "l": rank_bm25.BM25L, "plus": rank_bm25.BM25Plus}
words = st.sampled_from(["krieg", "frieden", "truppe", "usa", "kreml", "luft", "see", "land"])
corpora = st.lists(st.lists(words, min_size=1, max_size=12), min_size=1, max_size=25)


@pytest.mark.parametrize("variant", ["okapi", "l", "plus"])
@given(corpus=corpora, query=st.lists(words, min_size=1, max_size=4, unique=True))
def test_single_term_concepts_equal_rank_bm25(
    variant: str, corpus: list[list[str]], query: list[str]
) -> None:
    params = BM25Params(variant=variant, k1=1.2, b=0.3)  # type: ignore[arg-type]
    ours = BM25Index.from_documents(corpus, params)
    kwargs = {"k1": 1.2, "b": 0.3}
    reference = REFERENCE[variant](corpus, **kwargs)
    expected = reference.get_scores(query)
    got = ours.score([ours.concept_hits([t]) for t in query])
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9)


def test_synonym_concept_is_one_pseudo_term() -> None:
    """Summed tf, one idf: like rank-bm25 on a corpus where the synonyms are one token."""
    corpus = [
        ["krieg", "usa"],
        ["war", "usa", "usa"],
        ["frieden"],
        ["krieg", "war", "land"],
        ["see"],
        ["luft"],
        ["land"],
        ["land", "see"],
    ]
    merged = [["krieg" if t == "war" else t for t in doc] for doc in corpus]
    ours = BM25Index.from_documents(corpus, BM25Params(k1=1.2, b=0.75))
    ours.synonym_df = "union"
    reference = rank_bm25.BM25Okapi(merged, k1=1.2, b=0.75)
    hits = ours.concept_hits(["krieg", "war"])
    assert list(hits.doc_ids) == [0, 1, 3] and list(hits.tfs) == [1, 1, 2]
    idf = ours.idf_of_df(3)
    assert idf == pytest.approx(reference.idf["krieg"]) or reference.idf["krieg"] < 0
    got = ours.score([hits])
    expected = reference.get_scores(["krieg"])
    if reference.idf["krieg"] > 0:
        np.testing.assert_allclose(got, expected, rtol=1e-9)
    assert got[3] > got[0] > 0 and got[2] == 0


def test_many_translations_weigh_like_one_concept() -> None:
    corpus = [["a1"], ["a2"], ["a3"], ["b"], ["c"], ["d"], ["e"], ["f"]]
    index = BM25Index.from_documents(corpus, BM25Params(variant="plus"))
    broad = index.score([index.concept_hits(["a1", "a2", "a3"])])
    narrow = index.score([index.concept_hits(["b"])])
    # a document matching one of thirty-ish translations scores like a one-word match
    assert broad[0] == pytest.approx(narrow[3])


def test_boosts_scale_term_frequency() -> None:
    corpus = [["x"], ["y"], ["z"], ["w"]]
    index = BM25Index.from_documents(corpus)
    full = index.score([index.concept_hits(["x", "y"], boosts=[1.0, 1.0])])
    half = index.score([index.concept_hits(["x", "y"], boosts=[1.0, 0.5])])
    assert half[0] == pytest.approx(full[0]) and 0 < half[1] < full[1]


def test_top_k_orders_by_score_then_document() -> None:
    index = BM25Index.from_documents([["a"], ["b"]])
    scores = np.array([0.5, 2.0, 2.0, 0.1, 3.0])
    assert list(index.top_k(scores, 3)) == [4, 1, 2]
    assert list(index.top_k(scores, 0)) == []


@pytest.mark.parametrize("variant", ["okapi", "l", "plus"])
def test_one_formula_serves_one_value_and_the_vocabulary(variant: str) -> None:
    """A concept's idf (one document frequency) is the vocabulary's idf for a term with it,
    Okapi's floor for a term in most documents included."""
    corpus = [["a", "a", "b"], ["a", "c"], ["a"], ["d", "b"]]
    index = BM25Index.from_documents(corpus, BM25Params(variant=variant))  # type: ignore[arg-type]
    for tid in index.vocabulary.values():
        assert index.idf_of_df(int(index.df[tid])) == index.idf_array[tid]
