"""Pick the sentence(s) of a passage that answer a query, and mark the matched words."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from index.text import ENCLOSING, Token, sentence_spans, tokenize

_DIGIT = re.compile(r"\d")  # decimal digits: "CO₂" or "km²" hold no number


@dataclass(frozen=True, slots=True)
class QuoteSpan:
    """A verbatim span of the article and the matched words inside it (absolute offsets)."""

    start: int
    end: int
    highlights: tuple[tuple[int, int], ...]
    matched: frozenset[int]  # indices of the concepts the quote matches
    core_value: float  # summed weight × boost of the concepts in the single best sentence
    has_number: bool = False  # the best sentence contains a numeral


ConceptTerms = Mapping[str, float]  # a concept's index terms and their boosts

# German words that, opening a sentence, point back at the one before: third-person
# personal and possessive pronouns, demonstratives, pronominal adverbs (closed classes of
# the grammar, STTS PPER, PPOSAT, PDS/PDAT, PROAV). "Es" and the articles are left out:
# most often they refer to nothing ("Es gibt …", "Die Stadt …").
REFERRING_OPENERS = frozenset(
    """er sie ihm ihn ihnen sein seine seinen seinem seiner seines ihre ihren ihrem ihrer
    ihres dies diese dieser dieses diesen diesem solche solcher solches solchen jene jener
    jenes jenen dabei damit dadurch dafür dagegen daher darauf daraufhin daraus darin
    darüber darunter davon dazu danach davor deshalb deswegen dort""".split()  # noqa: SIM905
)


def opens_with_reference(sentence: str, within: int = 1) -> bool:
    """Whether one of ``sentence``'s first ``within`` words refers to the sentence before."""
    first = sentence.lstrip(ENCLOSING + " \t\n").split(maxsplit=within)[:within]
    return any(w.strip(ENCLOSING).lower() in REFERRING_OPENERS for w in first)


@dataclass(frozen=True, slots=True)
class PassageWords:
    """A passage's sentences and its words with their index terms: what every quote of the
    passage needs, worked out once per passage instead of once per question."""

    spans: tuple[tuple[int, int], ...]  # the sentences, absolute offsets
    words: tuple[Token, ...]  # the words that have index terms
    where: Mapping[str, tuple[int, ...]]  # term → the positions in ``words`` that carry it


def passage_words(
    text: str,
    start: int,
    end: int,
    terms_of: Callable[[str], Sequence[str]],
    split_verbs: Callable[[str, int], Sequence[tuple[int, int, str]]] | None = None,
) -> PassageWords:
    """``text[start:end]``'s sentences and indexed words. ``split_verbs`` gives the
    separable verbs split in the text (verb and particle offsets, the verb's term): both
    words then carry the verb's term, as the index does (``index.separable``)."""
    spans = tuple(sentence_spans(text, start, end) or [(start, end)])
    own = text[start:end]
    words: list[Token] = []
    where: dict[str, list[int]] = {}
    at_offset: dict[int, int] = {}
    for tok in tokenize(own, start):
        terms = set(terms_of(tok.surface))
        if terms:
            for term in terms:
                where.setdefault(term, []).append(len(words))
            at_offset[tok.start] = len(words)
            words.append(tok)
    for verb_start, particle_start, term in split_verbs(own, start) if split_verbs else ():
        at = where.setdefault(term, [])
        at.extend(at_offset[o] for o in (verb_start, particle_start) if o in at_offset)
        at[:] = sorted(set(at))
    return PassageWords(spans, tuple(words), {t: tuple(at) for t, at in where.items()})


def token_concepts(
    layout: PassageWords, concepts: Sequence[ConceptTerms]
) -> list[tuple[Token, dict[int, float]]]:
    """For each word that carries a concept, in text order, the concepts and the best
    boost of each. Looks the question's terms up in the passage, not the other way round:
    a question has a few dozen terms, a passage hundreds of words."""
    hits: dict[int, dict[int, float]] = {}
    for i, concept in enumerate(concepts):
        for term, boost in concept.items():
            for at in layout.where.get(term, ()):
                hit = hits.setdefault(at, {})
                if boost > hit.get(i, -1.0):
                    hit[i] = boost
    return [(layout.words[at], hits[at]) for at in sorted(hits)]


@dataclass(frozen=True, slots=True)
class QuoteRules:
    """How ``best_quote`` extends a sentence; the engine's are ``EngineConfig.quote_rules``.
    The defaults are off, but for the short sentence's context."""

    short_sentence: int = 70
    similarity_weight: float = 0.0
    neighbour_gap: float = -1.0
    antecedent: bool = False
    continuation: int = 0
    neighbour_share: float = 0.0
    max_sentences: int = 2
    quote_chars: int = 0


def best_quote(
    text: str,
    layout: PassageWords,
    concepts: Sequence[ConceptTerms],
    weights: Sequence[float],
    similarity: Sequence[float] | None = None,
    rules: QuoteRules = QuoteRules(),
) -> QuoteSpan:
    """The best one to ``rules.max_sentences`` consecutive sentences of a passage of
    ``text`` (its ``layout``) for the concepts.

    A sentence scores the summed weight of the distinct concepts it matches; with
    ``similarity`` (each sentence's cosine to the question, NaN where unknown) it also
    scores ``rules.similarity_weight`` × the question's total weight per unit of cosine,
    counted from the passage's most similar sentence. The best sentence is extended by a
    neighbour (``rules``):

    * that adds a concept the sentence lacks, or any, when the sentence alone is shorter
      than ``short_sentence`` characters;
    * with cosines, within ``neighbour_gap`` (≥ 0) of the passage's best cosine: it then
      likely carries part of the answer too;
    * without cosines, matching at least ``neighbour_share`` of the best sentence's value:
      the words alone cannot tell which of the two holds the answer;
    * with ``antecedent``, the sentence before a best sentence that opens with a word
      referring back ("Er …", "Dabei …"), unless the next one adds more concepts: the
      quote then says who or what it is about;
    * with ``continuation`` N > 0, and only when no rule above extended the sentence, the
      next sentence, when a referring word is among its first N words ("Im Zuge dieses
      Zusammenschlusses …"): it goes on about the best sentence, and often holds what was
      asked for.

    A quote of two sentences or more then grows one sentence at a time, up to
    ``rules.max_sentences`` and while it stays within ``rules.quote_chars`` characters, by
    the sentence on either side that is as near the question as a neighbour must be to join:
    with cosines, within ``neighbour_gap`` (≥ 0) of the passage's best cosine; without,
    ``neighbour_share`` of the best sentence's value. The nearer of the two sides joins, the
    next sentence on a tie. An answer told over three sentences is then quoted whole.
    """
    spans = layout.spans
    if similarity is not None and len(similarity) != len(spans):
        similarity = None  # cosines of another split of the passage: not this one's
    matches = token_concepts(layout, concepts)

    def concepts_in(a: int, b: int) -> dict[int, float]:
        found: dict[int, float] = {}
        for tok, hit in matches:
            if a <= tok.start < b:
                for i, boost in hit.items():
                    found[i] = max(found.get(i, 0.0), boost)
        return found

    def value(found: Mapping[int, float], without: Mapping[int, float] | None = None) -> float:
        return sum(weights[i] * b for i, b in found.items() if not without or i not in without)

    per_sentence = [concepts_in(a, b) for a, b in spans]
    semantic = [0.0] * len(spans)
    known = [s for s in similarity or () if s == s]  # NaN is unknown
    if similarity is not None and known and rules.similarity_weight:
        scale, top = rules.similarity_weight * sum(weights), max(known)
        # a sentence still lacking its vector loses a tenth of the question's weight,
        # whatever the cosine's weight: its words still count
        unknown = -0.1 * sum(weights)
        semantic = [scale * (s - top) if s == s else unknown for s in similarity]
    best = max(range(len(spans)), key=lambda i: (value(per_sentence[i]) + semantic[i], -i))
    lo = hi = best
    found = set(per_sentence[best])
    neighbours = [i for i in (best - 1, best + 1) if 0 <= i < len(spans)]
    gains = {i: value(per_sentence[i], per_sentence[best]) for i in neighbours}
    extra = max(neighbours, key=lambda i: (gains[i], i == best + 1), default=None)
    short = spans[best][1] - spans[best][0] < rules.short_sentence
    held = value(per_sentence[best])

    def nearness(i: int) -> float | None:
        """How near sentence ``i`` is to the question, if near enough to join the quote:
        its cosine within ``neighbour_gap`` of the best, or without cosines its value at
        least ``neighbour_share`` of the best sentence's."""
        if known and similarity is not None:
            near = rules.neighbour_gap >= 0 and similarity[i] >= max(known) - rules.neighbour_gap
            return similarity[i] if near else None
        share = rules.neighbour_share
        near = share > 0 and held > 0 and value(per_sentence[i]) >= share * held
        return value(per_sentence[i]) if near else None

    if extra is not None and not (gains[extra] > 0 or short):
        close = {i: n for i in neighbours if (n := nearness(i)) is not None}
        if close:  # ties go to the next sentence, as for ``extra``
            extra, short = max(close, key=lambda i: (close[i], i == best + 1)), True
    if (
        rules.antecedent
        and best > 0
        and gains[best - 1] >= gains.get(best + 1, 0.0)
        and opens_with_reference(text[spans[best][0] : spans[best][1]])
    ):
        extra, short = best - 1, True
    if (
        rules.continuation > 0
        and not (extra is not None and (gains[extra] > 0 or short))
        and best + 1 < len(spans)
        and opens_with_reference(text[spans[best + 1][0] : spans[best + 1][1]], rules.continuation)
    ):
        extra, short = best + 1, True
    if extra is not None and (gains[extra] > 0 or short):
        lo, hi = min(best, extra), max(best, extra)
        found |= set(per_sentence[extra])

    while lo < hi and hi - lo + 1 < rules.max_sentences:
        joins = {
            i: n
            for i in (lo - 1, hi + 1)
            if 0 <= i < len(spans)
            and spans[max(hi, i)][1] - spans[min(lo, i)][0] <= rules.quote_chars
            and (n := nearness(i)) is not None
        }
        if not joins:
            break
        pick = max(joins, key=lambda i: (joins[i], i == hi + 1))
        lo, hi = min(lo, pick), max(hi, pick)
        found |= set(per_sentence[pick])
    q_start, q_end = spans[lo][0], spans[hi][1]
    highlights = tuple(
        (tok.start, tok.end) for tok, _ in matches if q_start <= tok.start and tok.end <= q_end
    )
    a, b = spans[best]
    has_number = _DIGIT.search(text, a, b) is not None
    return QuoteSpan(q_start, q_end, highlights, frozenset(found), held, has_number)


def passage_highlights(
    layout: PassageWords, concepts: Sequence[ConceptTerms]
) -> tuple[tuple[int, int], ...]:
    """Spans of all matched words in the passage (for "show source")."""
    return tuple((tok.start, tok.end) for tok, _ in token_concepts(layout, concepts))
