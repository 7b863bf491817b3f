"""German text analysis: folding, stop words, Snowball stemming and compound splitting.

The same analyser turns article passages into index terms and German questions into query
terms, so both sides meet on identical terms.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import simplemma
import Stemmer

from index.text import Token, fold, tokenize

ANALYZER_VERSION = "de-lemma-snowball-2"

# Linking elements (Fugenelemente) that may join the parts of a German compound.
_LINKERS = ("ens", "es", "ns", "en", "er", "s", "n", "e")
_MIN_COMPOUND = 8  # shorter words are not split
_MIN_HEAD = 4
_MIN_MODIFIER = 4


def load_words(name: str) -> frozenset[str]:
    """A packaged word list (``index/data/NAME``): folded words, ``#`` comments."""
    text = resources.files("index.data").joinpath(name).read_text(encoding="utf-8")
    words: set[str] = set()
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        words.update(fold(w) for w in line.split())
    return frozenset(words)


GERMAN_STOPWORDS = load_words("stopwords_de.txt")
ENGLISH_STOPWORDS = load_words("stopwords_en.txt")


@dataclass(frozen=True, slots=True)
class Term:
    """An index term taken from a token; ``part`` marks a piece of a split compound."""

    term: str
    start: int
    end: int
    part: bool = False


class Decompounder:
    """Split German compounds into known parts, as Lucene's dictionary decompounder does.

    ``is_known`` decides whether a stem is a word of its own; at index time that is the
    set of nouns from the Ding dictionary plus the corpus, at query time the index
    vocabulary. Parts are returned folded (not stemmed).
    """

    def __init__(self, is_known: Callable[[str], bool], stem: Callable[[str], str]) -> None:
        self._is_known = is_known
        self._stem = stem
        self.split = lru_cache(maxsize=200_000)(self._split)

    def _known(self, part: str) -> bool:
        return len(part) >= _MIN_MODIFIER and self._is_known(self._stem(part))

    def _modifier_forms(self, mod: str) -> Iterable[str]:
        # Without its linking element first: Snowball stems "sicherheits" to "sich".
        for linker in _LINKERS:
            if mod.endswith(linker) and len(mod) - len(linker) >= _MIN_MODIFIER:
                yield mod[: -len(linker)]
        yield mod

    def _split(self, word: str) -> tuple[str, ...]:
        """Return the parts of ``word``, or ``()`` when it is not a known compound."""
        if len(word) < _MIN_COMPOUND or not word.isalpha():
            return ()
        best: tuple[int, tuple[str, ...]] | None = None
        for i in range(_MIN_MODIFIER, len(word) - _MIN_HEAD + 1):
            mod, head = word[:i], word[i:]
            if not self._known(head):
                continue
            for form in self._modifier_forms(mod):
                parts: tuple[str, ...]
                if self._known(form):
                    parts = (form, head)
                elif len(form) >= _MIN_COMPOUND and (sub := self.split(form)):
                    parts = (*sub, head)
                else:
                    continue
                # Prefer the split whose shortest part is longest (fewest, balanced parts).
                rank = min(len(p) for p in parts) * 10 - len(parts)
                if best is None or rank > best[0]:
                    best = (rank, parts)
                break
        if best is None:
            return ()
        chosen = best[1]
        # The head may itself be a compound ("Sicherheitsarchitektur" is not, but
        # "Langstreckenraketen" splits on the modifier side); expand the last part once.
        tail = self.split(chosen[-1]) if len(chosen[-1]) >= _MIN_COMPOUND else ()
        return (*chosen[:-1], *tail) if tail else chosen


@lru_cache(maxsize=500_000)
def _lemma(word: str) -> str:
    """The German lemma of one word as written (case matters: ``Gründen`` is a noun)."""
    if not word.isalpha():
        return word
    return str(simplemma.lemmatize(word, lang="de"))


class GermanAnalyzer:
    """Turns German text into index terms with offsets."""

    def __init__(self, decompounder: Decompounder | None = None) -> None:
        self._stemmer = Stemmer.Stemmer("german")
        self.decompounder = decompounder
        self.stem = lru_cache(maxsize=500_000)(self._stem_uncached)
        self._surface_cache: dict[str, tuple[str, ...]] = {}

    def _stem_uncached(self, folded: str) -> str:
        return str(self._stemmer.stemWord(folded))

    def is_stopword(self, folded: str) -> bool:
        return folded in GERMAN_STOPWORDS

    def term_of(self, word: str) -> str | None:
        """The index term of one word, or None for a stop word or a lone character.

        The word is lemmatised first (simplemma), then stemmed: lemmas join what Snowball
        alone keeps apart (``sang``/``singen``, ``zugesagt``/``zusagen``), the stem then
        merges the remaining inflection of the lemma.
        """
        folded = fold(word)
        if folded in GERMAN_STOPWORDS or (len(folded) < 2 and not folded.isdigit()):
            return None
        lemma = fold(_lemma(word))
        if lemma in GERMAN_STOPWORDS or len(lemma) < 2:
            lemma = folded
        return self.stem(lemma)

    def surface_terms(self, word: str) -> tuple[str, ...]:
        """Index terms of one word as written: its stem, then its compound parts' stems."""
        cached = self._surface_cache.get(word)
        if cached is not None:
            return cached
        term = self.term_of(word)
        if term is None:
            out: tuple[str, ...] = ()
        elif self.decompounder is not None and word[:1].isupper():
            parts = self.decompounder.split(fold(word))
            out = (term, *(self.stem(p) for p in parts if p not in GERMAN_STOPWORDS))
        else:
            out = (term,)
        if len(self._surface_cache) < 2_000_000:
            self._surface_cache[word] = out
        return out

    def index_terms(self, words: Iterable[str]) -> list[str]:
        """The index terms of a sequence of words (the fast path used for indexing)."""
        out: list[str] = []
        for word in words:
            out.extend(self.surface_terms(word))
        return out

    def analyze_tokens(self, tokens: Iterable[Token]) -> list[Term]:
        """Index terms for ``tokens`` with their offsets: each word's stem, then its parts."""
        return [
            Term(term, tok.start, tok.end, part=i > 0)
            for tok in tokens
            for i, term in enumerate(self.surface_terms(tok.surface))
        ]

    def analyze(self, text: str, base: int = 0) -> list[Term]:
        """Index terms of ``text``, with offsets shifted by ``base``."""
        return self.analyze_tokens(tokenize(text, base))
