"""German text analysis: folding, stop words, Snowball stemming and compound splitting.

The same analyser turns article passages into index terms and German questions into query
terms, so both sides meet on identical terms.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import Stemmer

from index.text import Token, fold, tokenize

# 14: a synonym only as the articles write it; 13: chat's "ne"; 12: compass points, "versteht"
ANALYZER_VERSION = "de-lemma-snowball-14"

# Linking elements (Fugenelemente) that may join the parts of a German compound; "" first.
_LINKERS = ("", "s", "es", "n", "en", "er", "e", "ens", "ns")
# Inflection a head may carry beyond its dictionary form ("Ministern", "Unternehmens").
_HEAD_ENDINGS = ("s", "es", "n", "en", "e")
_VOWELS = frozenset("aeiouy")
# Verb prefixes: a listed word made of one and another listed word is derived, not compound.
_PREFIXES = ("ver", "be", "ent", "er", "ge", "zer", "miss", "emp", "uber", "unter", "vor")
_STEMMER = Stemmer.Stemmer("german")  # the analyser's algorithm
_MIN_COMPOUND = 8  # shorter words are not split
_MIN_PART = 4  # modifier and head alike, linking element not counted
_MIN_LISTED_COMPOUND = 9  # a word the dictionary lists whole splits only when this long
# The points of the compass as a compound's first part, each for its noun: Ding lists them
# as short forms of Norden, Osten … (not as nouns of their own), and "Ost" is shorter than
# any other part. They take no linking element: "Ost-anatolien", "West-afrika", "Süd-
# ostasien"; "Osterinsel" is no "Ost" + "Insel". Folded, "Sud" (a brew) is "Süd" too, and
# "Westbank" splits as West + Bank: the whole word stays a term, and ranks first.
_COMPASS = {"nord": "norden", "ost": "osten", "sud": "suden", "west": "westen"}
_MIN_MODIFIER = min(len(c) for c in _COMPASS)
# Derivational endings are no words of their own, even where the dictionary lists a
# homograph ("Schaft", "Ster", "Endung"): "Wirtschaft" is no "Wirt" + "Schaft", and
# "Regierung" no "Regie" + "Rung".
_SUFFIX_RE = re.compile(
    r"(?:[^aeiouy]{0,3}ung|heit|keit|igkeit|barkeit|samkeit|lichkeit|losigkeit|schaft"
    r"|ion|ation|ismus|itat|lich|isch|ling|nis|tum|erin|erei|ster|endung|ant|ent|ist|enz"
    r"|anz|ur|ik|iker|ei|chen|lein|los|ler|ner)"
    r"(?:e|en|n|s|es|se|sen|er|ern|in|innen|nen)?"
)


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


def is_suffix_like(part: str) -> bool:
    """Whether a folded part is a derivational ending (with inflection), not a word."""
    return _SUFFIX_RE.fullmatch(part) is not None


@dataclass(frozen=True, slots=True)
class _Part:
    base: str  # the known word the part stands for ("garantie" for "garantien")
    surface: str  # the part as written, linking element excluded


def part_stems(words: Iterable[str]) -> dict[str, str]:
    """The words that may be parts of a compound, each with its Snowball stem: long
    enough, letters only, no stop word, no derivational ending."""
    kept = sorted(
        {
            p
            for p in words
            if len(p) >= _MIN_PART
            and p.isalpha()
            and p not in GERMAN_STOPWORDS
            and not is_suffix_like(p)
        }
    )
    return dict(zip(kept, _STEMMER.stemWords(kept), strict=True))


class Decompounder:
    """Split German compounds into known words, as Lucene's dictionary decompounder does.

    ``parts`` are the folded words a compound may be made of (at build time Ding's nouns
    and the corpus's capitalised words); those that are too short, stop words or
    derivational endings are dropped. ``german_words`` (words the dictionary lists whole)
    and ``english_words`` guard simple words and English words against splitting.

    A split is a function of these sets alone, and the best split only ever uses parts
    whose stems the index holds, so a snapshot keeps just those and the ones that share a
    stem with an article word (``kept_parts``), and splits every article word exactly as
    the build did. Parts are returned as the known words,
    folded, not stemmed.
    """

    def __init__(
        self,
        parts: Iterable[str],
        german_words: Collection[str] = frozenset(),
        english_words: Collection[str] = frozenset(),
        *,
        stems: Mapping[str, str] | None = None,
    ) -> None:
        # ``stems``: ``part_stems`` of most of ``parts``, made earlier (the dictionary
        # store keeps its nouns'); only the other parts are checked and stemmed here.
        self._stem_of = dict(stems) if stems else {}
        self._stem_of.update(part_stems(p for p in parts if p not in self._stem_of))
        self.parts = frozenset(self._stem_of)
        self._german = german_words
        self._english = english_words
        self._noun_stems = frozenset(self._stem_of.values())
        self.split = lru_cache(maxsize=200_000)(self._split)
        self._segmentations = lru_cache(maxsize=200_000)(self._segment)

    def kept_parts(self, needed: Collection[str]) -> frozenset[str]:
        """The parts whose stems are ``needed``: given the index terms and the stems of the
        articles' words, all that a split of an article word can use, and all that tell an
        article word for a noun."""
        return frozenset(p for p, stem in self._stem_of.items() if stem in needed)

    def _forms(self, surface: str, head: bool) -> Iterator[_Part]:
        if not head and surface in _COMPASS:
            yield _Part(_COMPASS[surface], surface)
            return
        if len(surface) < _MIN_PART or surface in GERMAN_STOPWORDS or is_suffix_like(surface):
            return  # "Nichteinmischung" is no "Nichte" + "Einmischung"
        if surface in self.parts:
            yield _Part(surface, surface)
        if head:
            for ending in _HEAD_ENDINGS:
                base = surface[: -len(ending)]
                if surface.endswith(ending) and base in self.parts:
                    yield _Part(base, surface)
            if surface.endswith("te") and surface + "r" in self.parts:
                yield _Part(surface + "r", surface)  # "Polizeibeamte": Beamter, an adjective noun
        elif (
            len(surface) > _MIN_PART and surface[-1] not in _VOWELS and surface + "e" in self.parts
        ):
            yield _Part(surface + "e", surface)  # "Schulbuch"; but "Warmzeit" is no "Wärme"

    def _segment(self, rest: str) -> tuple[tuple[_Part, ...], ...]:
        """Every way to write ``rest`` as known words joined by linking elements."""
        out: list[tuple[_Part, ...]] = [(part,) for part in self._forms(rest, head=True)]
        for i in range(_MIN_MODIFIER, len(rest) - _MIN_PART + 1):
            modifiers = tuple(self._forms(rest[:i], head=False))
            if not modifiers:
                continue
            for linker in ("",) if rest[:i] in _COMPASS else _LINKERS:
                tail = rest[i + len(linker) :]
                if not rest.startswith(linker, i) or len(tail) < _MIN_PART:
                    continue
                for seg in self._segmentations(tail):
                    out.extend((m, *seg) for m in modifiers)
        return tuple(out)

    def _listed_form(self, word: str) -> str | None:
        """The shortest form of ``word`` (itself, or without an ending) Ding lists whole."""
        forms = [word, *(word[: -len(e)] for e in _HEAD_ENDINGS if word.endswith(e))]
        return min((f for f in forms if f in self._german), key=len, default=None)

    def _is_english(self, word: str) -> bool:
        return word in self._english or (word.endswith("s") and word[:-1] in self._english)

    def _split(self, word: str) -> tuple[str, ...]:
        """Return the parts of ``word``, or ``()`` when it is not a known compound."""
        if len(word) < _MIN_COMPOUND or not word.isalpha():
            return ()
        listed = self._listed_form(word)
        if listed is None and self._is_english(word):
            return ()  # "Greenland" is no "Green" + "Land"
        if listed is not None and (
            len(listed) < _MIN_LISTED_COMPOUND or _STEMMER.stemWord(word) not in self._noun_stems
        ):
            return ()  # a simple word ("Dienstag"), or one of another class ("Normalerweise")
        if listed is not None and any(
            word.startswith(p) and self._listed_form(word[len(p) :]) for p in _PREFIXES
        ):
            return ()  # a prefix's derivation: "Verbrechen" is ver + brechen, no "Verb" + "Rechen"
        candidates = [seg for seg in self._segmentations(word) if len(seg) > 1]
        if not candidates:
            return ()

        # Fewest parts, then the longest shortest part, the shortest linking elements
        # ("Land-straße", not "Land-s-trasse"), the longest head ("Atom-kraftwerk"),
        # then parts written as listed;
        # the bases last, so that the choice never depends on the order of the search.
        def rank(seg: tuple[_Part, ...]) -> tuple[int, int, int, int, int, tuple[str, ...]]:
            lengths = [len(p.surface) for p in seg]
            exact = sum(p.base == p.surface for p in seg)
            bases = tuple(p.base for p in seg)
            return (-len(seg), min(lengths), sum(lengths), lengths[-1], exact, bases)

        best = tuple(p.base for p in max(candidates, key=rank))
        # A part that is a compound itself adds its own parts ("Wehrdienst": Wehr, Dienst).
        return tuple(q for p in best for q in (p, *self.split(p)))


def _simplemma(word: str) -> str:
    # Imported when first needed: builds lemmatise, answering uses the lemmas its build
    # stored (and the lemma file for question words those lack), and the import compiles
    # hundreds of patterns.
    import simplemma

    return str(simplemma.lemmatize(word, lang="de"))


@lru_cache(maxsize=500_000)
def _lemma(word: str, lemmatize: Callable[[str], str] = _simplemma) -> str:
    """The German lemma of one word as written (case matters: ``Gründen`` is a noun).

    ``lemmatize`` is simplemma's, or the same with its dictionary read from a file
    (``index.lemma_dictionary``): the same lemmas, without decoding the dictionary.
    """
    if not word.isalpha():
        return word
    return lemmatize(word)


def german_lemmas(words: Iterable[str]) -> dict[str, str]:
    """Folded lemmas of folded dictionary words, where the lemma is another word."""
    out: dict[str, str] = {}
    for word in words:
        lemma = fold(_lemma(word))
        if lemma != word:
            out[word] = lemma
    return out


class GermanAnalyzer:
    """Turns German text into index terms with offsets."""

    def __init__(
        self,
        decompounder: Decompounder | None = None,
        lemmas: Mapping[str, str] | None = None,
        lemmatize: Callable[[str], str] = _simplemma,
    ) -> None:
        self._stemmer = Stemmer.Stemmer("german")
        self.decompounder = decompounder
        self._lemmatize = lemmatize
        # None: lemmatise with simplemma (a build). A loaded index passes the lemmas its
        # build stored instead (``Lexicon.lemmas``), so it lemmatises exactly as the build
        # did without simplemma's dictionary; only a question's words the build never saw
        # are lemmatised at answer time (``QueryBuilder.lemma``).
        self.lemmas = lemmas
        self.stem = lru_cache(maxsize=500_000)(self._stem_uncached)
        self._surface_cache: dict[str, tuple[str, ...]] = {}

    def _stem_uncached(self, folded: str) -> str:
        return str(self._stemmer.stemWord(folded))

    def term_of(self, word: str) -> str | None:
        """The index term of one word, or None for a stop word or a lone character.

        The word is lemmatised first (simplemma), then stemmed: lemmas join what Snowball
        alone keeps apart (``sang``/``singen``, ``zugesagt``/``zusagen``), the stem then
        merges the remaining inflection of the lemma.
        """
        folded = fold(word)
        if folded in GERMAN_STOPWORDS or (len(folded) < 2 and not folded.isdigit()):
            return None
        lemma = self.lemma(word)
        if lemma in GERMAN_STOPWORDS or len(lemma) < 2:
            lemma = folded
        return self.stem(lemma)

    def lemma(self, word: str) -> str:
        """The folded lemma of ``word`` as written (folded words look up as themselves)."""
        if self.lemmas is None:
            return fold(_lemma(word, self._lemmatize))
        folded = fold(word)
        return self.lemmas.get(word) or self.lemmas.get(folded) or folded

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
