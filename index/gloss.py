"""Glosses: the English senses of a German quote's words, from the dictionary the build kept.

A gloss is no translation: each word of the quote is listed with English keys of the Ding
entries that give it, nothing else. At answer time the Ding file is not loaded, so the
senses come from what the build stores: ``Lexicon.translations`` (English key → German
index term → boost) inverted to index term → English keys, and the index's own
decompounder for a compound's parts. The senses the question matched come first.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from index.analysis import GERMAN_STOPWORDS, GermanAnalyzer
from index.concepts import Concept
from index.ding import english_key, english_lemma_keys
from index.english import english_lemmas
from index.lexicon import Lexicon
from index.text import WORD_RE, fold

MAX_SENSES = 4  # per word: enough to see its range, short enough to read
MAX_PART_SENSES = 3
MAX_KEY_WORDS = 3  # longer keys are Ding's example phrases, not senses
# Text before a word that puts it inside a sentence: a word character, then no sentence end.
_SENTENCE_INSIDE_RE = re.compile(r"\w[^.!?:„“\"]*$")


@dataclass(frozen=True, slots=True)
class Sense:
    """One English sense of a German word: a key of a Ding entry that gives the word."""

    english: str
    matched: bool = False  # the question asked in this sense
    glossary: bool = False  # from the names glossary, not from Ding


@dataclass(frozen=True, slots=True)
class GlossPart:
    """One part of a compound, with its own senses."""

    word: str
    senses: tuple[Sense, ...]


@dataclass(frozen=True, slots=True)
class GlossWord:
    """A word of the quote as written there, its senses, and a compound's parts."""

    word: str
    senses: tuple[Sense, ...]
    parts: tuple[GlossPart, ...] = ()

    @property
    def matched(self) -> bool:
        return any(s.matched for s in self.senses)


@dataclass(frozen=True, slots=True)
class Gloss:
    """The glossed words of one quote, and the content words the dictionary lacks."""

    words: tuple[GlossWord, ...]
    unknown: tuple[str, ...]

    @property
    def matched(self) -> bool:
        """Whether any sense shown, a part's included, is one the question asked in."""
        return any(
            w.matched or any(s.matched for p in w.parts for s in p.senses) for w in self.words
        )


class SenseIndex:
    """``Lexicon.translations`` inverted: index term → its English keys, best first."""

    def __init__(self, lexicon: Lexicon) -> None:
        self._keys: dict[str, list[tuple[str, float, str]]] = defaultdict(list)
        for key, terms in lexicon.translations.items():
            if len(key.split()) > MAX_KEY_WORDS:
                continue
            classes = lexicon.classes.get(key, {})
            for term, boost in terms.items():
                self._keys[term].append((key, boost, classes.get(term, "")))

    def senses(self, term: str, noun: bool, limit: int, strict: bool = False) -> list[str]:
        """The English keys that give ``term``, best first.

        Left out: inflected forms of another key ("pledged" beside "pledge"), keys with
        Ding's placeholders or abbreviations ("sb s package", "german ger"). Then the
        word's class first (a capitalised word is a noun; with ``strict``, a capitalised
        word inside a sentence, only nouns: "Merz" is no form of "ausmerzen"), single
        words before phrases,
        then the boost weighed with how
        common the English word is: the boost is the share of the *English* key's senses
        that give the term, so a frequent English word ("make") has small boosts for each
        of its many German words; times the word's frequency this estimates which English
        words a German word most often stands for.
        """
        rows = self._keys.get(term, [])
        keys = {key for key, _, _ in rows}
        classed = any(cls for _, _, cls in rows)
        kept = [
            (key, boost, cls)
            for key, boost, cls in rows
            if (cls or not classed)
            and _is_sense(key)
            and not (_lemmas(key) & (keys - {key}))
            and not (strict and "n" not in cls)
        ]

        def order(row: tuple[str, float, str]) -> tuple[bool, bool, float, str]:
            key, boost, cls = row
            fits = ("n" in cls) if noun else bool(set(cls) - {"n"})
            weight = math.log(max(boost, 1e-6)) + _LOG10 * _frequency(key)
            return (not fits, " " in key, -weight, key)

        return [key for key, _, _ in sorted(kept, key=order)[:limit]]


_LOG10 = 0.5 * math.log(10)  # half a Zipf step: frequency tips the scale, never owns it
_PLACEHOLDERS = frozenset({"sb", "sth", "s", "one’s", "one's", "oneself"})


def _is_sense(key: str) -> bool:
    """Whether a key reads as an English sense: no placeholder left by Ding's ``sb./sth.``,
    and no abbreviation trailing its word ("american am", "guaranteed gtd guar")."""
    words = key.split()
    if _PLACEHOLDERS.intersection(words):
        return False
    return not (len(words) > 1 and _abbreviates(words[-1], words[0]))


def _abbreviates(short: str, word: str) -> bool:
    """``short`` is a shorter string of ``word``'s letters in order ("gtd" of "guaranteed")."""
    if len(short) >= len(word) or short[:1] != word[:1]:
        return False
    letters = iter(word)
    return all(c in letters for c in short)


@lru_cache(maxsize=50_000)
def _lemmas(key: str) -> frozenset[str]:
    """Other dictionary forms of a one-word key ("pledged" → {"pledge"})."""
    if " " in key:
        return frozenset()
    forms = {f for group in english_lemmas(key).values() for f in group}
    return frozenset(forms - {key})


@lru_cache(maxsize=50_000)
def _frequency(key: str) -> float:
    from wordfreq import zipf_frequency  # a tenth of a second to import: only when asked

    return float(zipf_frequency(key, "en"))


def matched_senses(lexicon: Lexicon, concepts: Sequence[Concept]) -> dict[str, list[Sense]]:
    """Index term → the senses in which an English question reached it ("commit to" →
    verpflicht).

    The sense is the dictionary key the concept was looked up by: its words, or their
    lemma ("promised" → "promise"), or a typo's repair; a name found through the glossary
    is marked as such.
    """
    out: dict[str, list[Sense]] = defaultdict(list)
    for concept in concepts:
        words = concept.note if concept.kind == "typo" and concept.note else concept.source
        candidates = [english_key(words.split()), *english_lemma_keys(words.split())]
        for term in concept.terms:
            key = next((k for k in candidates if term in lexicon.translations.get(k, {})), None)
            if key is not None:
                sense = Sense(key, matched=True)
            elif concept.kind == "name":
                sense = Sense(concept.source, matched=True, glossary=True)
            else:
                continue
            if sense not in out[term]:
                out[term].append(sense)
    return out


def gloss(
    lexicon: Lexicon,
    analyzer: GermanAnalyzer,
    quote: str,
    concepts: Sequence[Concept] = (),
    senses: SenseIndex | None = None,
    split_verbs: Sequence[tuple[int, int, str]] = (),
) -> Gloss:
    """The content words of ``quote``, each once, with their English senses.

    A compound ("Sicherheitsgarantien") lists its parts with their senses as well; a word
    that has no sense itself but whose parts have is listed by its parts. A separable verb
    the quote splits (``split_verbs``: verb and particle offsets in ``quote``, the verb's
    term) is glossed as the verb ("lehnt … ab": reject), its particle not on its own.
    Words the dictionary lacks altogether (mostly names) are returned in ``unknown``.
    """
    senses = senses or SenseIndex(lexicon)
    matched = matched_senses(lexicon, concepts)
    # the split verbs the dictionary has senses for (else their two words, as written)
    verbs = {
        verb: (particle, term)
        for verb, particle, term in split_verbs
        if _senses(term, False, matched, senses, 1)
    }
    particles = {particle for particle, _ in verbs.values()}
    words: list[GlossWord] = []
    unknown: list[str] = []
    seen: set[str] = set()
    for found in WORD_RE.finditer(quote):
        word = found.group()
        terms = analyzer.surface_terms(word)
        if found.start() in particles:
            continue
        verb = found.start() in verbs
        if verb:
            particle, term = verbs[found.start()]
            after = WORD_RE.match(quote, particle)
            word, terms = f"{word} … {after.group() if after else ''}", (term,)
        if not terms or word.isdigit() or terms[0] in seen:
            continue
        seen.add(terms[0])
        noun = word[:1].isupper() and not verb  # "Lehnt … ab" opening a sentence is a verb
        inside = bool(_SENTENCE_INSIDE_RE.search(quote[: found.start()]))
        own = _senses(terms[0], noun, matched, senses, MAX_SENSES, noun and inside)
        # A name glossed by itself ("Merz" → Merz) says nothing.
        own = tuple(s for s in own if not (s.glossary and fold(s.english) == fold(word)))
        parts = tuple(
            GlossPart(label, part_senses)
            for label, term in ([] if verb else _parts(analyzer, word))
            if (part_senses := _senses(term, True, matched, senses, MAX_PART_SENSES))
        )
        if own or parts:
            words.append(GlossWord(word, own, parts))
        else:
            unknown.append(word)
    return Gloss(tuple(words), tuple(unknown))


def _senses(
    term: str,
    noun: bool,
    matched: dict[str, list[Sense]],
    senses: SenseIndex,
    limit: int,
    strict: bool = False,
) -> tuple[Sense, ...]:
    first = matched.get(term, [])
    asked = {s.english for s in first}
    found = senses.senses(term, noun, limit + len(asked), strict)
    rest = [Sense(k) for k in found if k not in asked]
    return (*first, *rest[: max(limit - len(first), 0)])


def _parts(analyzer: GermanAnalyzer, word: str) -> list[tuple[str, str]]:
    """A compound's parts as spelt in ``word`` ("Garantien"), each with its index term."""
    if analyzer.decompounder is None or not word[:1].isupper():
        return []
    folded = fold(word)
    aligned = len(folded) == len(word)  # folding kept one character per character
    out: list[tuple[str, str]] = []
    pos = 0
    for part in analyzer.decompounder.split(folded):
        if part in GERMAN_STOPWORDS:
            continue
        at = folded.find(part, pos)
        label = word[at : at + len(part)] if aligned and at >= 0 else part
        if at >= 0:
            pos = at + len(part)
        out.append((label[:1].upper() + label[1:], analyzer.stem(part)))
    return out
