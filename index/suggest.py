"""Did you mean: a question with an unmatched word replaced by a near word of the articles."""

from __future__ import annotations

import re

from rapidfuzz import fuzz
from rapidfuzz.process import extract

from index.concepts import Query
from index.query import QueryBuilder
from index.text import fold


def suggestions(builder: QueryBuilder, query: Query, limit: int = 5) -> list[str]:
    """ "Did you mean": the question with an unmatched word replaced by a near word of
    the articles (or an English word that translates into them), closest first."""
    found: list[tuple[float, str]] = []
    for concept in query.concepts:
        if concept.terms or concept.kind not in {"word", "name"} or " " in concept.source:
            continue
        word = fold(concept.source)
        # Only likely misspellings: a real word the articles lack is no typo.
        if len(word) < 3 or builder.is_known_word(word, query.language):
            continue
        pools = [builder.german_candidates]
        if query.language == "en":
            pools.insert(0, builder.english_candidates)
        for pool in pools:
            for near, score, _ in extract(
                word, pool, scorer=fuzz.ratio, limit=limit, score_cutoff=70
            ):
                if near != word:
                    # German suggestions in the articles' own spelling.
                    term = builder.lexicon.surfaces.get(near)
                    spelled = builder.lexicon.display.get(term, near) if term else near
                    replaced = _replace_word(query.question, concept.source, spelled)
                    found.append((score, replaced))
    ordered = [q for _, q in sorted(found, key=lambda x: -x[0])]
    return list(dict.fromkeys(ordered))[:limit]


def _replace_word(question: str, word: str, replacement: str) -> str:
    return re.sub(rf"\b{re.escape(word)}\b", replacement, question, count=1)
