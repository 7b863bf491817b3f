"""Which language a question is in, and its function words mistyped.

A question is German, English or mixed by its words: function words of one language only,
dictionary words of one only, and (German) capitalised words of the articles. A function
word of both languages (*was, will, in, an, so*) is evidence for neither: counted for both,
it only drew the two scores together, and "Was will Berlin stattdessen tun?" was read as
mixed, its *tun* as English (*Tonnen*).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable

from rapidfuzz.distance import OSA
from rapidfuzz.process import extractOne

from index.analysis import ENGLISH_STOPWORDS, GERMAN_STOPWORDS
from index.concepts import Language
from index.text import Token, fold


def detect(
    tokens: Iterable[Token],
    english_words: Collection[str],
    german_words: Collection[str],
    stem: Callable[[str], str],
    vocabulary: Collection[str],
) -> Language:
    """German, English, or mixed, from function words and dictionary membership; a
    capitalised word whose stem the articles hold counts as German."""
    en = de = 0.0
    for tok in tokens:
        word = fold(tok.surface)
        english_stop, german_stop = word in ENGLISH_STOPWORDS, word in GERMAN_STOPWORDS
        if english_stop and not german_stop:
            en += 1.0
        if german_stop and not english_stop:
            de += 1.0
        if word in english_words and word not in german_words:
            en += 0.5
        if (word in german_words and word not in english_words) or (
            stem(word) in vocabulary and tok.surface[:1].isupper()
        ):
            de += 0.5
    if en > de * 1.5:
        return "en"
    if de > en * 1.5:
        return "de"
    return "mixed"


def stop_word_typo(folded: str, language: Language) -> bool:
    """Whether an unknown word is a function word of ``language`` (either, when mixed)
    one slip away: a letter changed, added, dropped or two swapped ("waht" for *what*),
    which typo repair would otherwise make a word of the articles (*want*)."""
    if len(folded) < 3 or not folded.isalpha():  # "2nd" is no typo of "and"
        return False
    pools = [_TYPED_STOPS[language]] if language != "mixed" else list(_TYPED_STOPS.values())
    return any(extractOne(folded, pool, scorer=OSA.distance, score_cutoff=1) for pool in pools)


# the function words a typo may stand for: of three letters or more ("an" is one slip from
# every two-letter word)
_TYPED_STOPS = {
    "en": tuple(sorted(w for w in ENGLISH_STOPWORDS if len(w) >= 3)),
    "de": tuple(sorted(w for w in GERMAN_STOPWORDS if len(w) >= 3)),
}
