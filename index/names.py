"""A spelling-tolerant key of names, so that transliterations of one name meet."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from functools import cached_property

from rapidfuzz.distance import OSA, JaroWinkler, Levenshtein
from rapidfuzz.process import extract, extractOne

from index.text import fold

COGNATE_MIN_LENGTH = 6  # shorter words meet too many others by chance
NEAREST_TRIED = 10  # a typo's nearest words looked at, best first, for one of a fitting length

_NAME_RULES = (
    ("tsch", "c"),
    ("sch", "s"),
    ("ch", "c"),
    ("ph", "f"),
    ("ck", "c"),
    ("w", "v"),
    ("z", "s"),
    ("k", "c"),
    ("q", "c"),
    ("y", "i"),
    ("j", "i"),
    ("ie", "i"),
)


_SILENT_H = re.compile(r"(?<=[bcdfgklmnprstv])h")


def name_key(word: str) -> str:
    """A spelling-tolerant key of a name: transliterations of one name share it
    (Zelensky, Selenskyj, Zelenskyy → "selensci"; Wolodymyr, Volodymyr → "volodimir").
    An "h" after a consonant is silent in most romanisations (Ghandi, Gandhi → "gandi";
    Khan, Kan), so it is dropped once the German digraphs are rewritten."""
    key = fold(word)
    for old, new in _NAME_RULES:
        key = key.replace(old, new)
    key = _SILENT_H.sub("", key)
    return re.sub(r"(.)\1+", r"\1", key)


class Spellings:
    """The articles' names and words by their spelling-tolerant keys, for the question
    words that match nothing as typed."""

    def __init__(self, names: Iterable[str], words: Collection[str]) -> None:
        self._names: dict[str, str] = {}
        for name in names:  # most frequent first: it wins a shared key
            self._names.setdefault(name_key(name), name)
        self._name_keys = list(self._names)
        self._words = words

    def name(self, word: str) -> str | None:
        """The articles' name that ``word`` spells another way: by the key (Zelensky ↔
        Selenskyj), else within one edit of it, transpositions included (Macorn ↔
        Macron)."""
        if len(word) < 4 or not word.isalpha():
            return None
        key = name_key(word)
        found = self._names.get(key)
        if found is None and len(key) >= 5:
            near = extractOne(
                key, self._name_keys, scorer=OSA.distance, score_cutoff=1 if len(key) <= 7 else 2
            )
            found = self._names[near[0]] if near is not None else None
        return None if found is None or fold(found) == fold(word) else found

    @staticmethod
    def likeness(a: str, b: str) -> float:
        """How alike two words are by their keys (Jaro-Winkler, 0–1)."""
        return float(JaroWinkler.normalized_similarity(name_key(a), name_key(b)))

    @cached_property
    def word_keys(self) -> dict[str, dict[str, str]]:
        """The articles' (folded) words and their keys, by the keys' first three letters
        (a cognate's key begins as the word's: a question looks at those words only)."""
        out: dict[str, dict[str, str]] = {}
        for w in self._words:
            if len(w) >= COGNATE_MIN_LENGTH and w.isalpha():
                key = name_key(w)
                out.setdefault(key[:3], {})[w] = key
        return out

    def cognate(self, word: str, similarity: float) -> str | None:
        """The articles' (folded) word that ``word`` is a cognate of: their keys begin
        alike and are ``similarity`` alike by Jaro-Winkler (clades ↔ Kladen, organizations
        ↔ Organisationen; fuzzy translation of cross-lingual spelling variants, Pirkola
        et al., 2003)."""
        folded = fold(word)
        if not similarity or len(folded) < COGNATE_MIN_LENGTH or not folded.isalpha():
            return None
        key = name_key(folded)
        alike = self.word_keys.get(key[:3])
        if not alike:
            return None
        found = extractOne(
            key, alike, scorer=JaroWinkler.normalized_similarity, score_cutoff=similarity
        )
        return str(found[2]) if found is not None else None


def nearest_word(
    folded: str, pools: Sequence[tuple[Sequence[str], bool, int]]
) -> tuple[str, bool] | None:
    """The word of ``pools`` nearest ``folded`` (Levenshtein ≤ 1, ≤ 2 from 7 letters on,
    and never more than the pool's own limit), and its pool's flag (English or not); an
    earlier pool wins a tie.

    Two edits may not both add or both drop a letter: a typo of two slips keeps about its
    length ("recieve"), while two letters more or fewer make another word or a name
    ("desegregated" is not "segregated", "starmer" not "stare").
    """
    limit = 1 if len(folded) <= 6 else 2
    best: tuple[int, str, bool] | None = None
    for pool, flag, most in pools:
        for word, distance, _ in extract(
            folded,
            pool,
            scorer=Levenshtein.distance,
            score_cutoff=min(limit, most),
            limit=NEAREST_TRIED,
        ):
            if distance == 2 and abs(len(word) - len(folded)) > 1:
                continue
            if best is None or distance < best[0]:
                best = (int(distance), word, flag)
            break
    return None if best is None else (best[1], best[2])
